import { randomUUID } from 'node:crypto';
import type { Breaker, BreakerState } from '../breaker/index.js';
import { breakerFleetHooksOf, type BreakerFleetHooks } from '../breaker/internal.js';
import type { Clock } from '../clock/index.js';
import { ConfigError, InvalidArgumentError } from '../core/index.js';
import { integer, record as objectOption } from '../core/validate.js';
import type { Telemetry } from '../telemetry/index.js';
import { BreakerFleetUnavailableError, type BreakerFleetOperation } from './breaker-fleet-errors.js';
import { BreakerFleetEvents } from './breaker-fleet-events.js';
import {
  decodeIsolation,
  decodeMessage,
  encodeIsolation,
  encodeMessage,
  restoredMessageHead,
  type BreakerFleetIsolation,
  type FleetMessage,
  type HeartbeatBreaker,
} from './breaker-fleet-messages.js';
import { MIN_ISOLATION_TTL_MS, resolveBreakerFleetOptions, type BreakerFleetOptions, type ResolvedBreakerFleetOptions } from './breaker-fleet-options.js';
import { fleetKeys, redisFleetStore, type BreakerFleetStore, type BreakerFleetSubscriber, type FleetKeys } from './breaker-fleet-redis.js';
import { IsolationMirror, type IsolationChange, type IsolationTicket, type ReadIsolation, type RestoreCause } from './breaker-isolations.js';
import { ClusterView, type BreakerFleetEntry, type ViewChange } from './breaker-view.js';
import { wellFormed } from './lease-options.js';

/**
 * Options of {@link BreakerFleet.isolate}: what to tell refused callers, and how long the
 * isolation outlives its instance. Give a `reason` whenever a person isolates, so that callers and
 * `/health` say why.
 */
export interface IsolateOptions {
  /** Said to every refused caller (`BreakerOpenError.isolation.reason`) and in `isolated()`. */
  reason?: string;
  /** How long the isolation outlives this instance, in ms (an integer, at least 30). Default the fleet's `isolationTtlMs`. */
  ttlMs?: number;
}

/**
 * What a fleet's `onChange` listeners hear: isolations beginning and ending here, breaker states
 * across instances, instances leaving the view, Redis coming and going. Listen to log or alert on
 * them; `view()`, `isolated()` and `status()` give the same as a snapshot.
 */
export type BreakerFleetChange =
  /** This instance now isolates every breaker named `breaker` (and would isolate one attached later). */
  | { readonly type: 'isolated'; readonly breaker: string; readonly isolation: BreakerFleetIsolation }
  /** This instance no longer isolates `breaker`, and why. */
  | { readonly type: 'restored'; readonly breaker: string; readonly cause: RestoreCause }
  /** A breaker of some instance (this one included) is in a new state. */
  | { readonly type: 'state'; readonly instance: string; readonly breaker: string; readonly state: BreakerState; readonly isolated: boolean }
  /** An instance (this one included) no longer has `breaker`. */
  | { readonly type: 'detached'; readonly instance: string; readonly breaker: string }
  /** Another instance left the view: it stopped its fleet, or was not heard from for three of its heartbeats. */
  | { readonly type: 'departed'; readonly instance: string; readonly cause: 'left' | 'expired' }
  /** Redis answered after failing (`true`), or failed after answering (`false`). */
  | { readonly type: 'redis'; readonly available: boolean };

/**
 * How a fleet's link to Redis stands, as `status()` reports it. Show it in `/health`: while Redis
 * is unavailable, breakers work locally and isolations made elsewhere may not reach this instance.
 */
export interface BreakerFleetStatus {
  /** `'unknown'` until the first operation ends; then whether the last one succeeded. */
  readonly redis: 'unknown' | 'available' | 'unavailable';
  /** Whether its subscription is confirmed and its connection not known to be closed since. */
  readonly subscribed: boolean;
}

/**
 * This instance's member of a breaker fleet: it isolates its attached breakers while the fleet
 * says so, publishes their states, and isolates or restores a breaker name across instances. Make
 * one per process with {@link createBreakerFleet}, attach the breakers every instance has under
 * the same name, and call `isolate()` from code or an operator's endpoint. Times it reports are
 * on its clock.
 *
 * @example
 * ```ts
 * const fleet = createBreakerFleet({ redis, instance: hostname() });
 * fleet.attach(payments);                                  // every instance attaches its 'payments'
 * app.post('/isolate', async (req) => fleet.isolate(req.query.breaker, { reason: req.query.reason }));
 * app.get('/health', () => ({ breakers: fleet.view(), fleet: fleet.status() }));
 * ```
 */
export interface BreakerFleet extends AsyncDisposable {
  /** This instance's id. */
  readonly instance: string;
  /** The prefix of its keys and channel. */
  readonly prefix: string;
  /**
   * Puts a local breaker (from `createBreaker` or `breakerChild`) in the fleet: it is isolated
   * while its name is, and its state is published. Throws `InvalidArgumentError` for anything
   * else, or when another breaker of that name is attached; attaching the same breaker again does
   * nothing. Returns the function that detaches it.
   */
  attach(breaker: Breaker): () => void;
  /** Takes a breaker out of the fleet: its isolation (if any) is lifted here and it goes on alone. Unknown breakers are ignored. */
  detach(breaker: Breaker): void;
  /**
   * Isolates every breaker named `name` on every instance: resolves, once Redis has it, with the
   * isolation (this instance's breaker refuses from then on; every other instance's within one
   * pub/sub delivery; an instance that missed the message or starts later, within one heartbeat).
   * It lasts until `restore(name)`, or until `ttlMs` after this instance stops refreshing it (it
   * stopped or died). Rejects with `BreakerFleetUnavailableError` when Redis did not confirm
   * within `timeoutMs`, or after `stop()`; with `InvalidArgumentError` / `ConfigError` for a bad
   * name / option. Isolating an isolated name replaces its isolation.
   */
  isolate(name: string, options?: IsolateOptions): Promise<BreakerFleetIsolation>;
  /**
   * Ends the isolation of `name` everywhere, whoever made it: resolves, once Redis has deleted it,
   * with whether there was one (this instance's breaker admits per its own state from then on;
   * every other instance's within one delivery). Rejects as `isolate()` does.
   */
  restore(name: string): Promise<boolean>;
  /** The isolations this instance knows of (of its breakers, and any it heard of), by breaker name. */
  isolated(): Record<string, BreakerFleetIsolation>;
  /**
   * instance → breaker → `{ state, isolated, since, updatedAt }`: this instance's attached
   * breakers and those other instances published, for the instances heard from within three of
   * their heartbeats. A plain object, ready for a `/health` answer.
   */
  view(): Record<string, Record<string, BreakerFleetEntry>>;
  /** Whether Redis answers and the subscription stands. */
  status(): BreakerFleetStatus;
  /** Calls `listener` on every {@link BreakerFleetChange}; returns the unsubscribe function. */
  onChange(listener: (change: BreakerFleetChange) => void): () => void;
  /**
   * Leaves the fleet: timers stop, every attached breaker is detached (isolations lifted here),
   * the other instances are told (they drop it from their view), the subscription ends (a
   * subscriber the fleet made is disconnected). Isolations this instance made stay in Redis until
   * their `ttlMs` passes. Resolves within `timeoutMs`; idempotent.
   */
  stop(): Promise<void>;
}

/** An attached breaker. */
interface Attached {
  readonly breaker: Breaker;
  readonly hooks: BreakerFleetHooks;
  state: BreakerState;
  /** When it entered `state` (this fleet's clock; at the latest, when attached). */
  since: number;
  unwatch: () => void;
}

/** An isolation this instance made and keeps alive. */
interface Issued {
  readonly record: BreakerFleetIsolation;
  readonly value: string;
  /** When to refresh it next. */
  refreshAt: number;
  refreshing: boolean;
}

/** Why a Redis operation failed. */
class Unanswered {
  constructor(
    readonly reason: 'timeout' | 'error',
    readonly cause: unknown,
  ) {}
}

const ignore = (): void => undefined;

/** The fleet each breaker is attached to: a breaker has one isolation, so one fleet. */
const fleetOf = new WeakMap<Breaker, Fleet>();

function present<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

/**
 * The shell of a breaker fleet: Redis operations (each bounded by `timeoutMs` on the clock), the
 * subscription, one clock timer, and the breakers' hooks, around the two pure cores
 * ({@link IsolationMirror}, {@link ClusterView}).
 *
 * Every wait it hands out ends: `isolate()` and `restore()` with Redis's answer or at `timeoutMs`
 * (an answer after that is dropped); `stop()` once its own last messages are answered or timed
 * out. Nothing it does reaches a breaker's callers but the isolation itself.
 */
class Fleet implements BreakerFleet {
  readonly instance: string;
  readonly prefix: string;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private readonly keys: FleetKeys;
  private readonly store: BreakerFleetStore;
  private readonly subscriber: BreakerFleetSubscriber;
  private readonly attached = new Map<string, Attached>();
  private readonly mirror = new IsolationMirror();
  private readonly cluster = new ClusterView();
  private readonly issued = new Map<string, Issued>();
  private readonly listeners = new Set<{ listener: (change: BreakerFleetChange) => void }>();
  private subscription: 'down' | 'subscribing' | 'up' = 'down';
  /**
   * Whether the subscriber holds a SUBSCRIBE of the fleet's unanswered. A client queues one sent
   * while it is offline (ioredis's offline queue) and sends it when it reconnects; another sent
   * beside it would only queue too, so none is sent until it is answered: one per outage, not one
   * per heartbeat. Its answer ends the wait (or, with ioredis, the rejection of queued commands
   * after `maxRetriesPerRequest` reconnection attempts).
   */
  private subscribeUnanswered = false;
  private redis: BreakerFleetStatus['redis'] = 'unknown';
  private syncing = false;
  private syncAgain = false;
  private nextHeartbeatAt: number;
  private timer: unknown = undefined;
  private timerDue: number | undefined = undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** The breaker being isolated (or restored) by the fleet right now. */
  private isolating: Attached | undefined;

  private readonly onMessage = (channel: unknown, text: unknown): void => {
    if (this.stopped || channel !== this.keys.channel) return;
    const message = decodeMessage(text);
    if (message !== undefined) this.heard(message);
  };
  /** A (re)connected subscriber: subscribe again (ioredis may have; it is idempotent) and re-read. */
  private readonly onReady = (): void => {
    if (this.stopped || this.subscription === 'subscribing') return;
    this.subscription = 'down';
    this.subscribe();
  };
  private readonly onClose = (): void => {
    if (this.stopped || this.subscription !== 'up') return;
    this.subscription = 'down';
    this.failed('subscribe', new Unanswered('error', new Error('the subscriber connection closed')));
  };
  private readonly onSubscriberError = (error: unknown): void => {
    if (!this.stopped) this.failed('subscriber', new Unanswered('error', error));
  };

  constructor(private readonly options: ResolvedBreakerFleetOptions) {
    this.instance = options.instance;
    this.prefix = options.prefix;
    this.clock = options.clock;
    this.telemetry = options.telemetry;
    this.keys = fleetKeys(options.prefix);
    this.store = redisFleetStore(options.redis, this.keys);
    this.subscriber = options.subscriber;
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    this.subscriber.on('close', this.onClose);
    // A connection the fleet made is the fleet's to watch: an unhandled 'error' event would kill the process.
    if (options.ownsSubscriber) this.subscriber.on('error', this.onSubscriberError);
    this.nextHeartbeatAt = this.clock.now() + options.heartbeatMs;
    this.subscribe();
    this.arm();
  }

  // ---------------------------------------------------------------- breakers

  attach(breaker: Breaker): () => void {
    const hooks = breakerFleetHooksOf(breaker);
    if (hooks === undefined) throw new InvalidArgumentError('attach.breaker', breaker, 'a breaker made by createBreaker or breakerChild');
    const detach = (): void => this.detach(breaker);
    const name = breaker.name;
    const existing = this.attached.get(name);
    if (existing !== undefined) {
      if (existing.breaker === breaker) return detach;
      throw new InvalidArgumentError('attach.breaker', breaker, `a breaker whose name no attached breaker has ('${name}' is attached)`);
    }
    const holder = fleetOf.get(breaker);
    if (holder !== undefined && holder !== this) throw new InvalidArgumentError('attach.breaker', breaker, 'a breaker no other fleet has attached');
    if (this.stopped) throw new BreakerFleetUnavailableError('attach', name, 'stopped', 'the fleet was stopped');
    const entry: Attached = { breaker, hooks, state: breaker.state(), since: this.clock.now(), unwatch: ignore };
    this.attached.set(name, entry);
    fleetOf.set(breaker, this);
    entry.unwatch = hooks.watch((state) => this.breakerMoved(entry, state));
    // Isolated or not, the others hear of it now.
    this.isolateAttached(entry, this.mirror.get(name));
    // What Redis holds for this name, in one round trip rather than at the next heartbeat.
    this.requestSync();
    return detach;
  }

  detach(breaker: Breaker): void {
    const entry = this.attached.get((breaker as Partial<Breaker> | null)?.name as string);
    if (entry === undefined || entry.breaker !== breaker) return;
    this.release(entry);
    this.publish({ type: 'detached', instance: this.instance, name: breaker.name });
    this.notify({ type: 'detached', instance: this.instance, breaker: breaker.name });
  }

  /** Gives an attached breaker back to itself: unwatched, its isolation lifted. */
  private release(entry: Attached): void {
    entry.unwatch();
    this.attached.delete(entry.breaker.name);
    fleetOf.delete(entry.breaker);
    if (entry.hooks.isolation() !== undefined) entry.hooks.isolate(undefined);
  }

  /** Isolates an attached breaker (or lifts it: `undefined`) and publishes what it then reports, once. */
  private isolateAttached(entry: Attached, isolation: BreakerFleetIsolation | undefined): void {
    if (entry.hooks.isolation() !== isolation) {
      this.isolating = entry;
      try {
        entry.hooks.isolate(isolation);
      } finally {
        this.isolating = undefined;
      }
    }
    const state = entry.breaker.state();
    if (state !== entry.state) {
      entry.state = state;
      entry.since = this.clock.now();
    }
    this.publishState(entry);
  }

  private breakerMoved(entry: Attached, state: BreakerState): void {
    // A move the fleet's own isolation causes is published by `isolateAttached`, with the isolation.
    if (this.isolating === entry || this.attached.get(entry.breaker.name) !== entry) return;
    entry.state = state;
    entry.since = this.clock.now();
    this.publishState(entry);
  }

  private publishState(entry: Attached): void {
    const isolated = entry.hooks.isolation() !== undefined;
    const name = entry.breaker.name;
    this.publish({ type: 'state', instance: this.instance, ttlMs: this.viewTtlMs, name, state: entry.state, isolated });
    this.notify({ type: 'state', instance: this.instance, breaker: name, state: entry.state, isolated });
  }

  // ---------------------------------------------------------------- isolation

  async isolate(name: string, options?: IsolateOptions): Promise<BreakerFleetIsolation> {
    const breaker = breakerName('isolate.name', name);
    const { reason, ttlMs } = isolateOptions(options, this.options.isolationTtlMs);
    if (this.stopped) throw new BreakerFleetUnavailableError('isolate', breaker, 'stopped', 'the fleet was stopped');
    const record: BreakerFleetIsolation = Object.freeze({ id: randomUUID(), by: this.instance, reason, ttlMs });
    const value = encodeIsolation(record);
    const ticket = this.mirror.begin(this.clock.now());
    try {
      await this.guarded('isolate', (signal) => this.store.isolate(breaker, value, ttlMs, encodeMessage({ type: 'isolated', name: breaker, value }), signal));
    } catch (failure) {
      this.mirror.abandon(ticket);
      throw this.unavailable('isolate', breaker, failure);
    }
    if (this.stopped) return record;
    this.issued.set(breaker, { record, value, refreshAt: ticket.sentAt + ttlMs / 3, refreshing: false });
    this.confirmed(this.mirror.confirmIsolated(ticket, breaker, record));
    return record;
  }

  async restore(name: string): Promise<boolean> {
    const breaker = breakerName('restore.name', name);
    if (this.stopped) throw new BreakerFleetUnavailableError('restore', breaker, 'stopped', 'the fleet was stopped');
    const restoreId = randomUUID();
    const ticket = this.mirror.begin(this.clock.now());
    let deleted: string | undefined;
    try {
      deleted = await this.guarded('restore', (signal) => this.store.restore(breaker, restoredMessageHead(breaker, this.instance, restoreId), signal));
    } catch (failure) {
      this.mirror.abandon(ticket);
      throw this.unavailable('restore', breaker, failure);
    }
    if (this.stopped) return deleted !== undefined;
    this.issued.delete(breaker);
    this.confirmed(this.mirror.confirmRestored(ticket, breaker, restoreId));
    return deleted !== undefined;
  }

  private confirmed({ change, contested }: { change: IsolationChange | undefined; contested: boolean }): void {
    this.apply(present(change));
    // Others' messages about the name crossed this answer, and its own has not come: Redis's order decides, so ask it.
    if (contested) this.requestSync();
  }

  isolated(): Record<string, BreakerFleetIsolation> {
    return Object.fromEntries(this.mirror.entries());
  }

  /** Makes the attached breakers follow what the mirror now believes, and reports it. */
  private apply(changes: readonly IsolationChange[]): void {
    for (const change of changes) {
      const entry = this.attached.get(change.name);
      if (entry !== undefined) this.isolateAttached(entry, change.isolation);
      if (change.isolation !== undefined) {
        const { by, reason } = change.isolation;
        this.emit(BreakerFleetEvents.isolated, { breaker: change.name, by, reason });
        this.notify({ type: 'isolated', breaker: change.name, isolation: change.isolation });
      } else {
        this.emit(BreakerFleetEvents.restored, { breaker: change.name, why: change.cause });
        this.notify({ type: 'restored', breaker: change.name, cause: change.cause });
      }
    }
    if (changes.length > 0) this.arm();
  }

  /** Reads what Redis holds for every attached or isolated name; one read at a time. */
  private requestSync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    const names = [...new Set([...this.attached.keys(), ...this.mirror.names()])];
    if (names.length === 0) return;
    this.syncing = true;
    const read: IsolationTicket = this.mirror.begin(this.clock.now());
    const done = (changes: IsolationChange[]): void => {
      this.syncing = false;
      if (this.stopped) return;
      this.apply(changes);
      if (this.syncAgain) {
        this.syncAgain = false;
        this.requestSync();
      }
      this.arm();
    };
    this.guarded('read', (signal) => this.store.read(names, signal)).then(
      (stored) => {
        const found = stored.map((entry): ReadIsolation | undefined => {
          // A record this version cannot read isolates nothing.
          const record = entry === undefined ? undefined : decodeIsolation(entry.value);
          return record === undefined ? undefined : { record, pttl: entry?.pttl };
        });
        done(this.mirror.answered(read, names, found));
      },
      () => done(this.mirror.failed(read, this.clock.now())),
    );
  }

  /** Refreshes each isolation this instance made that is due, while it is still the one in Redis. */
  private refreshDue(now: number): void {
    for (const [name, issued] of this.issued) {
      if (issued.refreshing || issued.refreshAt > now) continue;
      issued.refreshing = true;
      const next = now + issued.record.ttlMs / 3;
      this.guarded('refresh', (signal) => this.store.refresh(name, issued.value, issued.record.ttlMs, signal)).then(
        (still) => {
          issued.refreshing = false;
          if (this.stopped || this.issued.get(name) !== issued) return;
          issued.refreshAt = next;
          if (!still) {
            // Restored, replaced or expired: Redis no longer has this record, and the view of it must follow.
            this.issued.delete(name);
            this.requestSync();
          }
          this.arm();
        },
        () => {
          issued.refreshing = false;
          if (this.stopped || this.issued.get(name) !== issued) return;
          issued.refreshAt = next;
          this.arm();
        },
      );
    }
  }

  // ---------------------------------------------------------------- messages and the view

  private heard(message: FleetMessage): void {
    const now = this.clock.now();
    switch (message.type) {
      case 'isolated': {
        const record = decodeIsolation(message.value);
        if (record !== undefined) this.apply(present(this.mirror.isolated(message.name, record, now)));
        return;
      }
      case 'restored': {
        const deleted = message.value === false ? undefined : decodeIsolation(message.value);
        this.apply(present(this.mirror.restored(message.name, deleted === undefined ? [message.id] : [message.id, deleted.id])));
        return;
      }
      case 'hello':
        if (message.instance !== this.instance) this.publishHeartbeat();
        return;
      default:
        if (message.instance === this.instance) return;
        this.viewChanged(this.viewChangesOf(message, now));
    }
  }

  private viewChangesOf(message: Extract<FleetMessage, { instance: string }>, now: number): ViewChange[] {
    switch (message.type) {
      case 'heartbeat':
        return this.cluster.heartbeat(message.instance, message.ttlMs, message.breakers, now);
      case 'state':
        return this.cluster.state(message.instance, message.ttlMs, message.name, message.state, message.isolated, now);
      case 'detached':
        return this.cluster.detached(message.instance, message.name);
      case 'left':
        return this.cluster.left(message.instance);
      default:
        return [];
    }
  }

  private viewChanged(changes: readonly ViewChange[]): void {
    for (const change of changes) this.notify(change);
    if (changes.length > 0) this.arm();
  }

  view(): Record<string, Record<string, BreakerFleetEntry>> {
    const now = this.clock.now();
    const own = [...this.attached].map(([name, entry]): [string, BreakerFleetEntry] => [
      name,
      { state: entry.state, isolated: entry.hooks.isolation() !== undefined, since: entry.since, updatedAt: now },
    ]);
    const others = this.cluster.snapshot(now).map(([instance, breakers]) => [instance, Object.fromEntries(breakers)] as const);
    return Object.fromEntries([[this.instance, Object.fromEntries(own)], ...others]);
  }

  /** How long the others keep this instance in their view: three heartbeats. */
  private get viewTtlMs(): number {
    return 3 * this.options.heartbeatMs;
  }

  private publishHeartbeat(): void {
    const now = this.clock.now();
    const breakers: HeartbeatBreaker[] = [...this.attached].map(([name, entry]) => ({
      name,
      state: entry.state,
      ageMs: Math.max(0, now - entry.since),
      isolated: entry.hooks.isolation() !== undefined,
    }));
    this.publish({ type: 'heartbeat', instance: this.instance, ttlMs: this.viewTtlMs, breakers });
  }

  private publish(message: FleetMessage): void {
    if (this.stopped) return;
    this.guarded('publish', (signal) => this.store.publish(encodeMessage(message), signal)).catch(ignore);
  }

  // ---------------------------------------------------------------- the subscription

  private subscribe(): void {
    if (this.stopped || this.subscription !== 'down' || this.subscribeUnanswered) return;
    this.subscription = 'subscribing';
    this.subscribeUnanswered = true;
    this.guarded('subscribe', () => {
      let sent: Promise<unknown>;
      try {
        sent = Promise.resolve(this.subscriber.subscribe(this.keys.channel));
      } catch (error) {
        sent = Promise.reject(error);
      }
      // Attached before `guarded` attaches its own: runs first, while an answer in time still finds 'subscribing'.
      sent.then(
        () => this.subscribeAnswered(true),
        () => this.subscribeAnswered(false),
      );
      return sent;
    }).then(
      () => {
        if (this.stopped || this.subscription !== 'subscribing') return;
        this.subscribed();
      },
      () => {
        if (this.subscription === 'subscribing') this.subscription = 'down';
      },
    );
  }

  /**
   * The subscriber answered a SUBSCRIBE. One answered after the fleet gave up on it (a client sends
   * one it queued while offline when it reconnects) subscribed the connection all the same.
   */
  private subscribeAnswered(subscribed: boolean): void {
    this.subscribeUnanswered = false;
    if (!subscribed || this.stopped || this.subscription !== 'down') return;
    this.answered('subscribe');
    this.subscribed();
  }

  /** The subscription stands. */
  private subscribed(): void {
    this.subscription = 'up';
    // Anything published while it was down is caught by the read; the others answer the hello
    // with a heartbeat, so the view fills at once.
    this.publish({ type: 'hello', instance: this.instance });
    this.publishHeartbeat();
    this.requestSync();
  }

  status(): BreakerFleetStatus {
    return { redis: this.redis, subscribed: this.subscription === 'up' };
  }

  // ---------------------------------------------------------------- Redis operations

  /**
   * Runs one Redis operation, settled by its answer or, at `timeoutMs`, by an {@link Unanswered}
   * timeout (the answer is then dropped, and the signal aborted so that nothing more is sent for
   * it); reports the outcome.
   */
  private guarded<T>(operation: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const given = new AbortController();
      const timer = this.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        given.abort();
        const failure = new Unanswered('timeout', undefined);
        this.failed(operation, failure);
        reject(failure);
      }, this.options.timeoutMs);
      let reply: Promise<T>;
      try {
        reply = Promise.resolve(run(given.signal));
      } catch (error) {
        reply = Promise.reject(error);
      }
      reply.then(
        (value) => {
          if (settled) return;
          settled = true;
          this.clock.clearTimeout(timer);
          this.answered(operation);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.clock.clearTimeout(timer);
          const failure = new Unanswered('error', error);
          this.failed(operation, failure);
          reject(failure);
        },
      );
    });
  }

  private answered(operation: string): void {
    if (this.stopped || this.redis === 'available') return;
    const recovered = this.redis === 'unavailable';
    this.redis = 'available';
    if (!recovered) return;
    this.emit(BreakerFleetEvents.available, { operation });
    this.notify({ type: 'redis', available: true });
  }

  private failed(operation: string, failure: Unanswered): void {
    if (this.stopped) return;
    this.emit(BreakerFleetEvents.unavailable, { operation, reason: failure.reason, error: failure.cause });
    if (operation === 'subscriber' || this.redis === 'unavailable') return;
    this.redis = 'unavailable';
    this.notify({ type: 'redis', available: false });
  }

  private unavailable(operation: BreakerFleetOperation, breaker: string, failure: unknown): BreakerFleetUnavailableError {
    if (!(failure instanceof Unanswered)) return new BreakerFleetUnavailableError(operation, breaker, 'error', String(failure), failure);
    if (failure.reason === 'timeout') {
      return new BreakerFleetUnavailableError(operation, breaker, 'timeout', `Redis did not answer within ${this.options.timeoutMs} ms`);
    }
    const message = failure.cause instanceof Error ? failure.cause.message : String(failure.cause);
    return new BreakerFleetUnavailableError(operation, breaker, 'error', `Redis failed: ${message}`, failure.cause);
  }

  // ---------------------------------------------------------------- the one timer

  /** Due work: the heartbeat, refreshes, overdue isolations, instances gone quiet. */
  private tick(): void {
    const now = this.clock.now();
    if (now >= this.nextHeartbeatAt) {
      this.nextHeartbeatAt = now + this.options.heartbeatMs;
      this.publishHeartbeat();
      this.subscribe();
      this.requestSync();
    }
    this.refreshDue(now);
    if (this.mirror.overdue(now)) this.requestSync();
    this.viewChanged(this.cluster.expire(now));
  }

  /** Keeps the one timer armed for the earliest due work (not for what is waiting on Redis already). */
  private arm(): void {
    if (this.stopped) return;
    let due = this.nextHeartbeatAt;
    const consider = (at: number | undefined): void => {
      if (at !== undefined && at < due) due = at;
    };
    consider(this.cluster.earliestExpiry());
    // While a read is in flight its end re-arms; an overdue isolation waits for it.
    if (!this.syncing) consider(this.mirror.earliestDeadline());
    for (const issued of this.issued.values()) if (!issued.refreshing) consider(issued.refreshAt);
    if (due === this.timerDue) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDue = due;
    // Rounded up to whole milliseconds: never early.
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerDue = undefined;
        this.tick();
        this.arm();
      },
      Math.max(0, Math.ceil(due - this.clock.now())),
    );
  }

  // ---------------------------------------------------------------- listeners, telemetry

  onChange(listener: (change: BreakerFleetChange) => void): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('onChange.listener', listener, 'a function');
    const entry = { listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  private notify(change: BreakerFleetChange): void {
    for (const { listener } of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        // A listener that throws must not keep the others, nor the fleet, from going on.
        process.emitWarning(`an onChange listener of breaker fleet '${this.instance}' threw: ${error instanceof Error ? error.stack : String(error)}`, {
          type: 'OverseerBreakerFleetWarning',
          code: 'OVERSEER_BREAKER_FLEET_LISTENER',
        });
      }
    }
  }

  private emit(name: string, metadata: Record<string, unknown>): void {
    if (!this.telemetry.observed) return;
    this.telemetry.emit(name, {}, { fleet: this.prefix, instance: this.instance, ...metadata });
  }

  // ---------------------------------------------------------------- stopping

  stop(): Promise<void> {
    return (this.stopping ??= this.shutdown());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private async shutdown(): Promise<void> {
    // The last message goes out before the fleet counts as stopped (publish refuses after).
    const left = this.guarded('publish', (signal) => this.store.publish(encodeMessage({ type: 'left', instance: this.instance }), signal)).catch(ignore);
    this.stopped = true;
    // The breakers go on alone; `left` tells the others they are gone from the view.
    for (const entry of [...this.attached.values()]) this.release(entry);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.mirror.clear();
    this.cluster.clear();
    this.issued.clear();
    this.subscriber.removeListener('message', this.onMessage);
    this.subscriber.removeListener('ready', this.onReady);
    this.subscriber.removeListener('close', this.onClose);
    let unsubscribed: Promise<unknown> = Promise.resolve();
    if (this.options.ownsSubscriber) {
      // Its 'error' listener stays: the connection may still report while it closes.
      this.subscriber.disconnect?.();
    } else if (typeof this.subscriber.unsubscribe === 'function') {
      const unsubscribe = this.subscriber.unsubscribe.bind(this.subscriber);
      unsubscribed = this.guarded('unsubscribe', () => unsubscribe(this.keys.channel)).catch(ignore);
    }
    await Promise.all([left, unsubscribed]);
  }
}

function breakerName(argument: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(argument, name, 'a non-empty string (a breaker name)');
  if (!(name as unknown as { isWellFormed(): boolean }).isWellFormed()) throw new InvalidArgumentError(argument, name, 'well-formed Unicode (no lone surrogate)');
  return name;
}

function isolateOptions(options: unknown, defaultTtlMs: number): { reason: string | undefined; ttlMs: number } {
  if (options === undefined) return { reason: undefined, ttlMs: defaultTtlMs };
  const fields = objectOption('isolate.options', options);
  for (const key of Object.keys(fields)) {
    if (key !== 'reason' && key !== 'ttlMs') throw new ConfigError(`isolate.${key}`, fields[key], 'one of reason, ttlMs (an unknown option)');
  }
  const reason = fields.reason === undefined ? undefined : wellFormed('isolate.reason', typeof fields.reason === 'string' ? fields.reason : invalidReason(fields.reason));
  return { reason, ttlMs: integer('isolate.ttlMs', fields.ttlMs, defaultTtlMs, MIN_ISOLATION_TTL_MS) };
}

function invalidReason(reason: unknown): never {
  throw new ConfigError('isolate.reason', reason, 'a string');
}

/**
 * Creates this instance's breaker fleet: every instance of a service attaches its breakers to one,
 * over the same Redis and `prefix`, and any of them (or an operator's script) can isolate a
 * breaker by name across all of them, as Polly's manual `Isolate()` does for many breakers sharing
 * one state. Counting stays local: no failure count, rate or window ever crosses instances (one
 * bad node must not open everyone's breakers); only isolations and states do.
 *
 * - `isolate(name)` writes the isolation to Redis (a key with a TTL its instance refreshes while it
 *   runs) and publishes it in one atomic script: every instance's breaker of that name refuses
 *   calls within one pub/sub delivery, with a `BreakerOpenError` whose `state` is `'disabled'`,
 *   `retryAfterMs` Infinity and `isolation` the record; `state()` reports `'disabled'` meanwhile.
 *   `restore(name)` deletes it and publishes that: every breaker admits again per its own state.
 * - An instance that starts later, or whose subscription was down, learns the isolations of its
 *   breakers from their keys (read when it subscribes, when a breaker is attached, and every
 *   heartbeat). An isolation whose instance died expires after its `ttlMs`.
 * - A local `disable()` / `enable()` is the breaker's own business underneath: `enable()` does not
 *   lift an isolation, and a breaker disabled by hand stays disabled when restored.
 * - Each instance publishes its breakers' transitions and a heartbeat; `view()` shows instance →
 *   breaker → state, and an instance not heard from for three heartbeats leaves it.
 * - When Redis fails, nothing is thrown at the breakers' callers: they go on locally, each failure
 *   is reported in telemetry (`breaker.fleet.unavailable`) and in `status()`, and an isolation
 *   Redis cannot confirm lasts until it would have expired unrefreshed, then is lifted here.
 *
 * Throws `ConfigError` for bad options. Needs two connections: `redis` for commands and a
 * `subscriber` (default `redis.duplicate()`).
 *
 * @example
 * ```ts
 * const fleet = createBreakerFleet({ redis: new Redis(process.env.REDIS_URL), instance: hostname() });
 * fleet.attach(payments);
 * await fleet.isolate('payments', { reason: 'provider incident #4711' });   // refused on every instance
 * await fleet.restore('payments');
 * ```
 */
export function createBreakerFleet(options: BreakerFleetOptions): BreakerFleet {
  return new Fleet(resolveBreakerFleetOptions(options));
}
