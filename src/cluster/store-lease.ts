import type { Clock } from '../clock/index.js';
import { InvalidArgumentError } from '../core/index.js';
import type { Telemetry } from '../telemetry/index.js';
import type { ClusterLease, LeaseLoss, LeaseLossReason } from './cluster-lease.js';
import { LeaseUnavailableError } from './errors.js';
import { TelemetryEvents } from '../telemetry/index.js';
import { LeaseNoticeEvents } from './lease-events.js';
import type { ResolvedLeaseOptions } from './lease-options.js';
import { holds, initialLeaseState, leaseTransition, wakeAt, type LeaseEffect, type LeaseInput, type LeaseOperation, type LeaseState, type Unanswered } from './lease-state.js';
import type { LeaseStore } from './lease-store.js';
import { leaseTiming, type LeaseTiming } from './lease-timing.js';
import type { ReleaseFeed, ReleaseNotice, ReleaseWatcher } from './release-feed.js';

/**
 * A {@link ClusterLease} kept in a store (PostgreSQL, Redis): `await using` releases it and drops
 * its `onReleased` listeners.
 */
export interface StoreLease extends ClusterLease, AsyncDisposable {
  /** How long the store keeps a holding after each renewal, in ms. */
  readonly ttlMs: number;
  /**
   * See {@link ClusterLease.onReleased}: a store lease always has it. It listens (on the
   * backend's `subscriber` / `listen` connection) only while it has listeners; without a
   * connection to listen on, its listeners are kept and never called.
   */
  onReleased(listener: (notice: ReleaseNotice) => void): () => void;
}

/** Where a store lease hears of releases, and the notice that names its own. */
export interface LeaseNotices {
  readonly feed: ReleaseFeed;
  readonly key: string;
}

type Listener = (reason: LeaseLossReason, loss: LeaseLoss) => void;
type ReleasedListener = (notice: ReleaseNotice) => void;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A lease input without its time: `now` is read when it is applied. */
type Untimed = LeaseInput extends infer Input ? (Input extends LeaseInput ? Omit<Input, 'now'> : never) : never;

/** An input waiting to be applied. */
type Queued =
  | { readonly input: Untimed; readonly acquirer?: undefined; readonly releaser?: undefined }
  | { readonly input: { type: 'acquire' }; readonly acquirer: Waiter<boolean>; readonly releaser?: undefined }
  | { readonly input: { type: 'release' }; readonly releaser: Waiter<void>; readonly acquirer?: undefined };

/**
 * The shell of a lease: applies inputs one at a time to the pure {@link leaseTransition} (calls
 * made from inside a listener wait for the input being applied to finish), performs the effects,
 * and keeps one clock timer armed for {@link wakeAt}.
 *
 * Every wait it hands out ends: an `acquire()` with the answer of its claim or that claim's
 * time-out (`ttlMs / 3`, on the lease's timer), or with `false` when `release()` comes first; a
 * `release()` with the store's confirmation or its time-out, or at once when there is nothing to
 * release. An answer to an operation that is no longer in flight (timed out) is dropped.
 */
class LeaseShell implements StoreLease {
  readonly name: string;
  readonly owner: string;
  readonly ttlMs: number;
  private readonly timing: LeaseTiming;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private state: LeaseState = initialLeaseState;
  private readonly inbox: Queued[] = [];
  private applying = false;
  private timer: unknown = undefined;
  private timerDue: number | undefined = undefined;
  private acquirers: Waiter<boolean>[] = [];
  private releasers: Waiter<void>[] = [];
  private readonly listeners = new Set<{ listener: Listener }>();
  private readonly releasedListeners = new Set<{ listener: ReleasedListener }>();
  /** Stops watching the release feed; set while there are `onReleased` listeners and a feed. */
  private unwatch: (() => void) | undefined = undefined;

  constructor(
    private readonly store: LeaseStore,
    options: ResolvedLeaseOptions,
    private readonly notices: LeaseNotices | undefined,
  ) {
    this.name = options.name;
    this.owner = options.owner;
    this.ttlMs = options.ttlMs;
    this.timing = leaseTiming(options.ttlMs);
    this.clock = options.clock;
    this.telemetry = options.telemetry;
  }

  acquire(): Promise<boolean> {
    return new Promise((resolve, reject) => this.submit({ input: { type: 'acquire' }, acquirer: { resolve, reject } }));
  }

  release(): Promise<void> {
    return new Promise((resolve, reject) => this.submit({ input: { type: 'release' }, releaser: { resolve, reject } }));
  }

  isHeld(): boolean {
    // Looking is enough to learn that the deadline has passed (a blocked event loop): the loss is
    // reported now, before the caller acts on the answer. From inside a listener the state is
    // being changed already; it is read as it stands.
    if (!this.applying) this.submit({ input: { type: 'observe' } });
    return holds(this.state, this.clock.now());
  }

  get fence(): number | undefined {
    return this.isHeld() ? this.state.holding?.fence : undefined;
  }

  onLost(listener: Listener): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('onLost.listener', listener, 'a function');
    const entry = { listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  onReleased(listener: ReleasedListener): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('onReleased.listener', listener, 'a function');
    const entry = { listener };
    this.releasedListeners.add(entry);
    if (this.releasedListeners.size === 1 && this.notices !== undefined && this.unwatch === undefined) {
      this.unwatch = this.notices.feed.watch(this.watcher(this.notices.key), this.clock);
    }
    return () => {
      if (!this.releasedListeners.delete(entry) || this.releasedListeners.size > 0) return;
      const unwatch = this.unwatch;
      this.unwatch = undefined;
      unwatch?.();
    };
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.releasedListeners.clear();
    const unwatch = this.unwatch;
    this.unwatch = undefined;
    unwatch?.();
    return this.release();
  }

  // ---------------------------------------------------------------- applying inputs

  private submit(queued: Queued): void {
    this.inbox.push(queued);
    if (this.applying) return;
    this.applying = true;
    try {
      for (let next = this.inbox.shift(); next !== undefined; next = this.inbox.shift()) this.apply(next);
    } finally {
      this.applying = false;
      this.arm();
    }
  }

  private apply(queued: Queued): void {
    if (queued.acquirer !== undefined) this.acquirers.push(queued.acquirer);
    if (queued.releaser !== undefined) this.releasers.push(queued.releaser);
    const input = { ...queued.input, now: this.clock.now() } as LeaseInput;
    const { state, effects } = leaseTransition(this.state, input, this.timing);
    this.state = state;
    for (const effect of effects) this.perform(effect);
  }

  private perform(effect: LeaseEffect): void {
    switch (effect.type) {
      case 'send':
        this.send(effect.operation);
        return;
      case 'acquired':
        this.emit(TelemetryEvents.leaseAcquired, { duration: effect.durationMs }, effect.fence);
        return;
      case 'renewed':
        this.emit(TelemetryEvents.leaseRenewed, { duration: effect.durationMs }, effect.fence);
        return;
      case 'released':
        this.emit(TelemetryEvents.leaseReleased, {}, effect.fence, { confirmed: effect.confirmed });
        return;
      case 'acquire-settled': {
        const waiters = this.acquirers;
        this.acquirers = [];
        const outcome = effect.outcome;
        if (typeof outcome === 'boolean') for (const waiter of waiters) waiter.resolve(outcome);
        else for (const waiter of waiters) waiter.reject(this.unavailable(outcome));
        return;
      }
      case 'release-settled': {
        const waiters = this.releasers;
        this.releasers = [];
        const outcome = effect.outcome;
        if (outcome === true) for (const waiter of waiters) waiter.resolve();
        else for (const waiter of waiters) waiter.reject(this.unavailable(outcome));
        return;
      }
      case 'lost':
        this.emit(TelemetryEvents.leaseLost, { graceMs: effect.graceMs }, effect.fence, { reason: effect.reason });
        this.notifyLost({ reason: effect.reason, fence: effect.fence, graceMs: effect.graceMs });
        return;
    }
  }

  /** Sends one operation; its answer is applied only while it is still the operation in flight. */
  private send(operation: LeaseOperation): void {
    let reply: Promise<Untimed>;
    try {
      reply =
        operation.kind === 'release'
          ? this.store.release(this.owner, operation.fence).then(() => ({ type: 'released' as const }))
          : this.store.claim(this.owner).then((claim) => ({ type: 'claimed' as const, claim }));
    } catch (error) {
      reply = Promise.reject(error);
    }
    reply.then(
      (input) => {
        if (this.state.inFlight === operation) this.submit({ input });
      },
      (cause: unknown) => {
        if (this.state.inFlight === operation) this.submit({ input: { type: 'failed', cause } });
      },
    );
  }

  /** How this lease follows its release feed: notices of its own name, and the feed's state. */
  private watcher(key: string): ReleaseWatcher {
    return {
      key,
      released: () => this.notifyReleased('released'),
      up: () => {
        this.emitNotices(LeaseNoticeEvents.up, undefined);
        this.notifyReleased('listening');
      },
      down: (error) => this.emitNotices(LeaseNoticeEvents.down, error),
    };
  }

  private notifyReleased(notice: ReleaseNotice): void {
    for (const { listener } of [...this.releasedListeners]) {
      try {
        listener(notice);
      } catch (error) {
        process.emitWarning(`an onReleased listener of lease '${this.name}' threw: ${error instanceof Error ? error.stack : String(error)}`, {
          type: 'OverseerLeaseWarning',
          code: 'OVERSEER_LEASE_LISTENER',
        });
      }
    }
  }

  private emitNotices(name: string, error: unknown): void {
    if (!this.telemetry.observed) return;
    this.telemetry.emit(name, {}, { lease: this.name, owner: this.owner, ...(error === undefined ? {} : { error }) });
  }

  private notifyLost(loss: LeaseLoss): void {
    for (const { listener } of [...this.listeners]) {
      try {
        listener(loss.reason, loss);
      } catch (error) {
        // A listener that throws must not keep the others from learning of the loss.
        process.emitWarning(`an onLost listener of lease '${this.name}' threw: ${error instanceof Error ? error.stack : String(error)}`, {
          type: 'OverseerLeaseWarning',
          code: 'OVERSEER_LEASE_LISTENER',
        });
      }
    }
  }

  private unavailable(failure: Unanswered): LeaseUnavailableError {
    if (failure.reason === 'timeout') {
      return new LeaseUnavailableError(this.name, 'timeout', `the store did not answer within ${this.timing.answerWithinMs} ms`);
    }
    const message = failure.cause instanceof Error ? failure.cause.message : String(failure.cause);
    return new LeaseUnavailableError(this.name, 'error', `the store failed: ${message}`, failure.cause);
  }

  private emit(name: string, measurements: Record<string, number>, fence: number, extra?: Record<string, unknown>): void {
    if (!this.telemetry.observed) return;
    this.telemetry.emit(name, measurements, { lease: this.name, owner: this.owner, fence, ...extra });
  }

  // ---------------------------------------------------------------- the one timer

  /** Keeps the one timer armed for the state's wake time (none when nothing is held or in flight). */
  private arm(): void {
    const due = wakeAt(this.state, this.timing);
    if (due === this.timerDue) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = due;
    if (due === undefined) return;
    // Rounded up to whole milliseconds: never early, and never a delay so small that a clock
    // reading far from zero could not move by it.
    const delay = Math.max(0, Math.ceil(due - this.clock.now()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDue = undefined;
      this.submit({ input: { type: 'timer' } });
    }, delay);
  }
}

/**
 * Creates a lease whose state lives in `store`, hearing of releases through `notices` when given.
 * The backends (`createPostgresLease`, `createRedisLease`) are this with their store adapter and feed.
 */
export function createStoreLease(store: LeaseStore, options: ResolvedLeaseOptions, notices?: LeaseNotices): StoreLease {
  return new LeaseShell(store, options, notices);
}
