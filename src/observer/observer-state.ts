import type { Breaker } from '../breaker/index.js';
import { ChildHistory } from './child-history.js';
import { EventLog } from './event-log.js';
import type { ResolvedObserverOptions } from './options.js';
import { findBreaker, InfrastructureCatalog, readComponents } from './read-components.js';
import { childrenOf, nestedSupervisor, readSupervisor, readTree, type ObservedSupervisor, type PageRequest, type ReadContext } from './read-supervisors.js';
import { TelemetryIntake, type Dirty } from './telemetry-intake.js';
import type { ObserverDelta, ObserverSnapshot, SupervisorView } from './views.js';

/** A supervisor in the trees the clients have been shown: its handle, parent and nested supervisors. */
interface KnownSupervisor {
  handle: ObservedSupervisor;
  parent: string | undefined;
  nested: string[];
}

/** Fields of a view left out when telling whether it changed: they count time, which the page does itself. */
const COUNTDOWN_KEY = /(InMs|AgoMs)$/;
const withoutCountdowns = (key: string, value: unknown): unknown => (COUNTDOWN_KEY.test(key) ? undefined : value);

/** The ids of the nested supervisors a view's children run. */
const nestedIds = (view: SupervisorView): string[] => view.children.flatMap((child) => (child.supervisor === undefined ? [] : [child.supervisor]));

/**
 * What the observer knows and how it reads it: the telemetry-fed history, the supervisors shown
 * to the connected clients, and what each component looked like in the last message, so that a
 * delta carries only what changed. Reads go through the components' public API at the moment a
 * message is built; nothing here holds a timer.
 */
export class ObserverState {
  readonly dirty: Dirty = { supervisors: new Set(), components: false };
  readonly history: ChildHistory;
  readonly log = new EventLog();
  readonly intake: TelemetryIntake;
  private readonly catalog: InfrastructureCatalog | undefined;
  private readonly roots: ObservedSupervisor[];
  /** The supervisors the connected clients were shown, by id; built when the first client connects. */
  private known = new Map<string, KnownSupervisor>();
  /** Between `follow()` and `unfollow()`: while a client is connected. */
  private following = false;
  /** Per component (`section/name`), its view in the last message, countdowns left out. */
  private readonly sent = new Map<string, string>();
  /** The id of the last event in a message. */
  private lastEventSent = 0;
  private readonly exited = new WeakSet<object>();
  private readonly watched = new WeakSet<object>();
  /** Called when a supervisor exits, so that the clients hear of it. */
  onSupervisorExit: (id: string) => void = () => undefined;

  constructor(private readonly options: ResolvedObserverOptions) {
    this.history = new ChildHistory(options.historyMs);
    this.intake = new TelemetryIntake(this.history, this.log, this.dirty, options.historyMs);
    this.catalog = options.infrastructure === undefined ? undefined : new InfrastructureCatalog(options.infrastructure);
    const roots = [...options.supervisors];
    const infrastructureRoot = options.infrastructure?.supervisor;
    if (infrastructureRoot !== undefined && !roots.includes(infrastructureRoot)) roots.push(infrastructureRoot);
    this.roots = roots;
  }

  /** Everything now, for a client that connects (or a script asking `GET /snapshot`). Changes nothing the deltas rely on. */
  snapshot(seq: number, actions: boolean): ObserverSnapshot {
    const now = this.options.clock.now();
    const supervisors = this.readForest(now, new Map());
    return {
      seq,
      actions,
      pageSize: this.options.pageSize,
      historyMs: this.options.historyMs,
      supervisors,
      ...readComponents(this.options, this.catalog, this.intake.limiterCounts, now),
      events: this.log.since(0, now),
    };
  }

  /**
   * Starts following the trees for deltas: what they look like now is what the clients are
   * assumed to have (the snapshot each gets on connecting), and what the last message carried.
   */
  follow(): void {
    this.following = true;
    this.known = new Map();
    const seen = new Map<string, { handle: ObservedSupervisor; parent: string | undefined }>();
    const views = this.readForest(this.options.clock.now(), seen);
    for (const view of views) {
      const entry = seen.get(view.id)!;
      this.known.set(view.id, { handle: entry.handle, parent: entry.parent, nested: nestedIds(view) });
    }
    // What the components look like and the last event now: the baseline of the next delta.
    this.dirty.supervisors.clear();
    this.dirty.components = true;
    this.delta(0);
  }

  /** Stops following: no client is connected. What the clients knew is forgotten (the next one gets a snapshot). */
  unfollow(): void {
    this.following = false;
    this.known = new Map();
    this.dirty.supervisors.clear();
    this.dirty.components = false;
  }

  /**
   * What changed since the last delta: the supervisors marked dirty (read again, with nested
   * supervisors that appeared; those gone listed as removed), the components whose view differs
   * from the last one sent, and the events since. `undefined` when nothing changed.
   */
  delta(seq: number): ObserverDelta | undefined {
    const now = this.options.clock.now();
    const delta: ObserverDelta = { seq };
    const supervisors: SupervisorView[] = [];
    // Each supervisor once per delta, as read last: its index in `supervisors`.
    const placed = new Map<string, number>();
    const put = (view: SupervisorView): void => {
      const at = placed.get(view.id);
      if (at === undefined) placed.set(view.id, supervisors.push(view) - 1);
      else supervisors[at] = view;
    };
    const removed: string[] = [];
    const context = this.readContext(now);
    for (const id of this.dirty.supervisors) {
      const known = this.known.get(id);
      // Unknown: not in a tree the clients were shown (or read already, as a new nested supervisor's tree).
      if (known === undefined || placed.has(id)) continue;
      const reading = readSupervisor(known.handle, known.parent, { index: 0 }, context);
      put(reading.view);
      const nestedNow = new Set(reading.nested.map((inner) => inner.id));
      for (const gone of known.nested) if (!nestedNow.has(gone)) this.forget(gone, removed);
      for (const inner of reading.nested) {
        const before = this.known.get(inner.id);
        if (before !== undefined && before.handle === inner) continue;
        // A nested supervisor started, or restarted as a new one under the same id: its whole tree.
        if (before !== undefined) this.forget(inner.id, []);
        const seen = new Map<string, { handle: ObservedSupervisor; parent: string | undefined }>();
        for (const [knownId, entry] of this.known) seen.set(knownId, entry);
        for (const view of readTree(inner, id, context, seen)) {
          const entry = seen.get(view.id)!;
          this.known.set(view.id, { handle: entry.handle, parent: entry.parent, nested: nestedIds(view) });
          put(view);
        }
      }
      known.nested = [...nestedNow];
    }
    this.dirty.supervisors.clear();
    // A supervisor read before its parent found it gone is not sent; one gone then back (a new run) is.
    const current = supervisors.filter((view) => this.known.has(view.id));
    if (current.length > 0) delta.supervisors = current;
    const gone = [...new Set(removed)].filter((id) => !this.known.has(id));
    if (gone.length > 0) delta.removedSupervisors = gone;

    if (this.dirty.components) {
      this.dirty.components = false;
      const views = readComponents(this.options, this.catalog, this.intake.limiterCounts, now);
      const breakers = this.changed('breakers', views.breakers);
      if (breakers.length > 0) delta.breakers = breakers;
      const pools = this.changed('pools', views.pools);
      if (pools.length > 0) delta.pools = pools;
      const threadPools = this.changed('threadPools', views.threadPools);
      if (threadPools.length > 0) delta.threadPools = threadPools;
      const limiters = this.changed('limiters', views.limiters);
      if (limiters.length > 0) delta.limiters = limiters;
      const leases = this.changed('leases', views.leases);
      if (leases.length > 0) delta.leases = leases;
    }
    const events = this.log.since(this.lastEventSent, now);
    this.lastEventSent = this.log.lastId;
    if (events.length > 0) delta.events = events;
    return Object.keys(delta).length > 1 ? delta : undefined;
  }

  /**
   * One page of a supervisor's children, found in any observed tree (a nested supervisor on any
   * page included), followed by the trees of the nested supervisors on that page. `undefined` for
   * an id no tree has.
   */
  children(id: string, page: PageRequest): SupervisorView[] | undefined {
    const now = this.options.clock.now();
    const found = this.find(id);
    if (found === undefined) return undefined;
    const context = this.readContext(now);
    const reading = readSupervisor(found.handle, found.parent, page, context);
    const views = [reading.view];
    const seen = new Map<string, { handle: ObservedSupervisor; parent: string | undefined }>([[id, found]]);
    for (const inner of reading.nested) views.push(...readTree(inner, id, context, seen));
    return views;
  }

  /** The supervisor with this id: one the clients know, else searched for through every child of every tree. */
  find(id: string): { handle: ObservedSupervisor; parent: string | undefined } | undefined {
    const known = this.following ? this.known.get(id) : undefined;
    if (known !== undefined) return known;
    const stack: Array<{ handle: ObservedSupervisor; parent: string | undefined }> = this.roots.map((handle) => ({ handle, parent: undefined }));
    const visited = new Set<ObservedSupervisor>();
    while (stack.length > 0) {
      const entry = stack.pop()!;
      if (visited.has(entry.handle)) continue;
      visited.add(entry.handle);
      if (entry.handle.id === id) return entry;
      for (const child of childrenOf(entry.handle)) {
        const inner = nestedSupervisor(child);
        if (inner !== undefined) stack.push({ handle: inner, parent: entry.handle.id });
      }
    }
    return undefined;
  }

  /** The breaker with this name, the infrastructure's included, when it is running. */
  breaker(name: string): Breaker | undefined {
    return findBreaker(this.options, this.catalog, name);
  }

  private readForest(now: number, seen: Map<string, { handle: ObservedSupervisor; parent: string | undefined }>): SupervisorView[] {
    const context = this.readContext(now);
    return this.roots.flatMap((root) => readTree(root, undefined, context, seen));
  }

  private readContext(now: number): ReadContext {
    return { history: this.history, now, pageSize: this.options.pageSize, hasExited: (supervisor) => this.hasExited(supervisor) };
  }

  /** Whether it has exited; the first time a supervisor is asked about, its `exited` is watched. */
  private hasExited(supervisor: ObservedSupervisor): boolean {
    if (!this.watched.has(supervisor)) {
      this.watched.add(supervisor);
      const exited = (supervisor as { exited?: unknown }).exited;
      if (exited instanceof Promise) {
        exited.then(
          () => this.markExited(supervisor),
          () => this.markExited(supervisor),
        );
      }
    }
    return this.exited.has(supervisor);
  }

  private markExited(supervisor: ObservedSupervisor): void {
    this.exited.add(supervisor);
    this.onSupervisorExit(supervisor.id);
  }

  /** Drops a supervisor and the supervisors under it from what the clients know, listing their ids. */
  private forget(id: string, removed: string[]): void {
    const known = this.known.get(id);
    if (known === undefined) return;
    this.known.delete(id);
    removed.push(id);
    for (const inner of known.nested) this.forget(inner, removed);
  }

  /** The views of a section that differ from the last ones sent (countdowns aside), remembered as sent. */
  private changed<V extends { name: string }>(section: string, views: V[]): V[] {
    const changed: V[] = [];
    for (const view of views) {
      const key = `${section}\u0000${view.name}`;
      const signature = JSON.stringify(view, withoutCountdowns);
      if (this.sent.get(key) === signature) continue;
      this.sent.set(key, signature);
      changed.push(view);
    }
    return changed;
  }
}
