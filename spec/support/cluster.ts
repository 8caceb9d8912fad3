import type { Clock, TestClock } from '../../src/index.js';
import { createTelemetry, type Telemetry, type TelemetryEvent } from '../../src/index.js';
import type { Claim, LeaseStore } from '../../src/cluster/lease-store.js';
import { resolveLeaseOptions } from '../../src/cluster/lease-options.js';
import { createStoreLease, type StoreLease } from '../../src/cluster/store-lease.js';

/** Lets pending promise callbacks run; not a sleep. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Advances a test clock by `ms`, stopping at every due timer to let the promise callbacks it
 * caused run at that virtual time (an answer delivered by a timer is processed when it arrives,
 * not at the end of the advance). `afterEachStep` runs at every stop (and at the start and end).
 */
export async function advance(clock: TestClock, ms: number, afterEachStep?: () => void): Promise<void> {
  const target = clock.now() + ms;
  await flush();
  afterEachStep?.();
  for (let due = clock.nextDue(); due !== undefined && due <= target; due = clock.nextDue()) {
    clock.advance(Math.max(0, due - clock.now()));
    await flush();
    afterEachStep?.();
  }
  clock.advance(Math.max(0, target - clock.now()));
  await flush();
  afterEachStep?.();
}

/**
 * One process's view of a shared test clock: the same time, but while it is paused (its event
 * loop blocked) none of its timers run and nothing is delivered to it; on resume, what became due
 * runs in the order it became due.
 */
export class ProcessClock implements Clock {
  private paused = false;
  private deferred: Array<() => void> = [];

  constructor(private readonly shared: TestClock) {}

  get isPaused(): boolean {
    return this.paused;
  }

  now(): number {
    return this.shared.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = { cancelled: false, inner: undefined as unknown };
    handle.inner = this.shared.setTimeout(() => this.whenRunning(() => (handle.cancelled ? undefined : fn())), ms);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    const timer = handle as { cancelled: boolean; inner: unknown } | undefined;
    if (timer === undefined) return;
    timer.cancelled = true;
    this.shared.clearTimeout(timer.inner);
  }

  /** Runs `fn` now, or on resume when paused. */
  whenRunning(fn: () => void): void {
    if (this.paused) this.deferred.push(fn);
    else fn();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const deferred = this.deferred;
    this.deferred = [];
    for (const fn of deferred) fn();
  }
}

/**
 * How the fake store behaves: `up`; `failing` (rejects at once, applies nothing); `silent`
 * (applies nothing, never answers); `queueing` (holds requests and applies them, in order, when
 * it leaves this mode, then answers); `reply-lost` (applies, never answers).
 */
export type StoreMode = 'up' | 'failing' | 'silent' | 'queueing' | 'reply-lost';

/** The network between one client and the store: how long requests and answers travel. */
export interface Link {
  requestDelayMs: number;
  replyDelayMs: number;
  /** When set, how the store behaves towards this client alone (its connection is down, say). */
  mode?: StoreMode;
}

/** A lease record as the fake store keeps it. */
export interface FakeRecord {
  owner: string;
  fence: number;
  /** Store time; `-Infinity` once released. */
  expiresAt: number;
}

/**
 * An in-memory lease store whose time is the test clock: the same rules as the PostgreSQL
 * statement (take when absent or expired: fence + 1; renew when mine: same fence; release when
 * owner and fence match: expire now), with latency, outages and lost replies under the spec's
 * control.
 */
export class FakeLeaseStore implements Link {
  mode: StoreMode = 'up';
  /** Time from sending a request to the store applying it (for clients without a link of their own). */
  requestDelayMs = 0;
  /** Time from the store applying a request to the answer arriving (for clients without a link of their own). */
  replyDelayMs = 0;
  readonly records = new Map<string, FakeRecord>();
  /** Every request the store applied, in order. */
  readonly applied: Array<{ at: number; operation: 'claim' | 'release'; name: string; owner: string; fence?: number; result?: Claim }> = [];
  /** Every request sent, applied or not. */
  sent = 0;
  private queued: Array<() => void> = [];

  constructor(readonly clock: TestClock) {}

  setMode(mode: StoreMode): void {
    this.mode = mode;
    if (mode === 'queueing') return;
    const queued = this.queued;
    this.queued = [];
    for (const apply of queued) apply();
  }

  /**
   * The store of one lease name, answering through `client` (deferred while it is paused), over
   * `link` (default: the store's own delays).
   */
  storeFor(name: string, ttlMs: number, client?: ProcessClock, link: Link = this): LeaseStore {
    const request = <T>(apply: () => T): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        this.sent += 1;
        const answer = (fn: () => void): void => {
          const deliver = (): void => (client ? client.whenRunning(fn) : fn());
          if (link.replyDelayMs > 0) this.clock.setTimeout(deliver, link.replyDelayMs);
          else deliver();
        };
        const mode = link.mode ?? this.mode;
        const applyAndAnswer = (): void => {
          const result = apply();
          if (mode !== 'reply-lost') answer(() => resolve(result));
        };
        switch (mode) {
          case 'failing':
            answer(() => reject(new Error('store failing')));
            return;
          case 'silent':
            return;
          case 'queueing':
            this.queued.push(applyAndAnswer);
            return;
          default:
            if (link.requestDelayMs > 0) this.clock.setTimeout(applyAndAnswer, link.requestDelayMs);
            else applyAndAnswer();
        }
      });
    return {
      claim: (owner) => request(() => this.claim(name, owner, ttlMs)),
      release: (owner, fence) => request(() => this.release(name, owner, fence)),
    };
  }

  private claim(name: string, owner: string, ttlMs: number): Claim {
    const now = this.clock.now();
    const record = this.records.get(name);
    let result: Claim;
    if (record === undefined) {
      this.records.set(name, { owner, fence: 1, expiresAt: now + ttlMs });
      result = { held: true, fence: 1 };
    } else if (record.owner === owner && record.expiresAt > now) {
      record.expiresAt = now + ttlMs;
      result = { held: true, fence: record.fence };
    } else if (record.expiresAt <= now) {
      record.owner = owner;
      record.fence += 1;
      record.expiresAt = now + ttlMs;
      result = { held: true, fence: record.fence };
    } else {
      result = { held: false, holder: record.owner };
    }
    this.applied.push({ at: now, operation: 'claim', name, owner, result });
    return result;
  }

  private release(name: string, owner: string, fence: number): void {
    const now = this.clock.now();
    const record = this.records.get(name);
    if (record !== undefined && record.owner === owner && record.fence === fence) record.expiresAt = -Infinity;
    this.applied.push({ at: now, operation: 'release', name, owner, fence });
  }

  /** Who holds `name` at the store's time now, if anyone. */
  holderOf(name: string): FakeRecord | undefined {
    const record = this.records.get(name);
    return record !== undefined && record.expiresAt > this.clock.now() ? record : undefined;
  }
}

/** A lease on the fake store, with its own telemetry recorded. */
export interface FakeLease {
  readonly lease: StoreLease;
  readonly clock: ProcessClock;
  readonly telemetry: Telemetry;
  readonly events: TelemetryEvent[];
  named(name: string): TelemetryEvent[];
}

/** A lease object on `store`, running on its own {@link ProcessClock} of the shared clock (or the one given). */
export function fakeLease(
  store: FakeLeaseStore,
  options: { name?: string; ttlMs?: number; owner?: string; link?: Link; clock?: ProcessClock } = {},
): FakeLease {
  const clock = options.clock ?? new ProcessClock(store.clock);
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const name = options.name ?? 'lease';
  const resolved = resolveLeaseOptions({ name, ttlMs: options.ttlMs ?? 3000, owner: options.owner, clock, telemetry });
  const lease = createStoreLease(store.storeFor(name, resolved.ttlMs, clock, options.link), resolved);
  return { lease, clock, telemetry, events, named: (eventName) => events.filter((event) => event.name === eventName) };
}

/** Records a promise's outcome as it settles, for specs that must not await it. */
export function track<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}
