import type { AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import { attempt, ConfigError, InvalidArgumentError } from '../core/index.js';
import { record as objectOption } from '../core/validate.js';
import { PoolAbortedError, PoolFullError, PoolStoppedError, PoolTimeoutError, WorkerExitedError } from './errors.js';
import { IdleWorkers } from './idle-workers.js';
import { resolveCheckoutOptions, resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions, type WorkerContext } from './options.js';
import { finishPoolActor, startPoolActor, type PoolActorHooks } from './pool-actor.js';
import { initialPoolState, poolStatus, queuedCheckouts, transition, type PoolEffect, type PoolEvent, type PoolState } from './pool-accounting.js';
import { WaiterQueue, type QueueNode } from './waiter-queue.js';

/** A checked-out worker. Release it (or destroy it) exactly once; later calls are ignored. */
export interface Lease<W> {
  /** The checked-out worker, yours until `release` or `destroy`. */
  readonly worker: W;
  /** Returns the worker to the pool. */
  release(): void;
  /** The worker is broken: the pool destroys it and replaces it as poolboy does. */
  destroy(reason?: unknown): void;
  /** Releases it (see `release`), so that `using lease = await pool.checkout()` returns it with the scope. */
  [Symbol.dispose](): void;
}

/**
 * poolboy's `status`, plus the number of queued checkouts: those waiting with no worker on its
 * way for them (a checkout waiting for a worker being created is not counted). A stopped pool
 * reports `{ state: 'full', idle: 0, overflow: 0, checkedOut: 0, waiting: 0 }`: it hands nothing out.
 */
export interface PoolStatus {
  /**
   * poolboy's state name: `'ready'` while idle base workers remain, `'overflow'` while overflow
   * workers are (or can be) created, `'full'` once overflow is at `maxOverflow` (the next
   * checkout waits or is refused).
   */
  state: 'ready' | 'overflow' | 'full';
  /** Workers idle in the pool, ready to be checked out. */
  idle: number;
  /** Overflow workers alive now (created beyond `size`, dismissed when released). */
  overflow: number;
  /** Workers checked out now. */
  checkedOut: number;
  /** Checkouts queued with no worker on its way for them. */
  waiting: number;
}

/** Options of {@link Pool.checkout}; bad values reject the checkout with `ConfigError` naming the option. */
export interface CheckoutOptions {
  /**
   * Wait for a worker when none is free (default true). False rejects at once with
   * `PoolFullError` when no worker is idle, none is on its way and overflow is at its maximum
   * (poolboy's `block = false`); it still waits for a worker being created for it.
   */
  block?: boolean;
  /** How long to wait, in ms: a number from 0 up, or `Infinity` to wait for ever. Default the pool's `checkoutTimeoutMs`. */
  timeoutMs?: number;
  /** Aborting it withdraws the checkout (`PoolAbortedError`); one aborted already is refused even when a worker is idle. Default none. */
  signal?: AbortSignal;
}

/**
 * A pool of workers (connections, clients) with poolboy's semantics, as `createPool` or
 * `poolChild` makes it: `size` workers kept ready, up to `maxOverflow` more under load, and
 * checkouts that wait, time out or are refused when none is free.
 */
export interface Pool<W> {
  /** Names it in telemetry, errors and an infrastructure tree (`options.name`). */
  readonly name: string;
  /** The pool as an XState actor, e.g. as a supervised child. */
  readonly actor: AnyActorRef;
  /**
   * Checks a worker out: an idle one, a new overflow worker, or (with `block`, the default) the
   * next one released, within `timeoutMs`. Rejects with `PoolFullError` (`block: false`),
   * `PoolTimeoutError`, `PoolAbortedError`, `PoolStoppedError`, or the factory's own error when
   * the worker created for it fails. Prefer `transaction` unless the lease outlives one call.
   */
  checkout(options?: CheckoutOptions): Promise<Lease<W>>;
  /** Checks out an idle worker synchronously, or returns `undefined` when none is idle (no overflow, no wait). */
  tryCheckout(): Lease<W> | undefined;
  /** Checks a worker out, runs `fn` with it and releases it however `fn` ends; `fn`'s error passes through unchanged. */
  transaction<T>(
    fn: (worker: W) => T | Promise<T>,
    options?: {
      /** How long the checkout may wait, as {@link CheckoutOptions.timeoutMs}. Default the pool's `checkoutTimeoutMs`. */
      timeoutMs?: number;
      /** Withdraws the checkout while it waits (`PoolAbortedError`); `fn` is not given it. */
      signal?: AbortSignal;
    },
  ): Promise<T>;
  /** What it holds now, as poolboy's `status` (see {@link PoolStatus}); cheap enough for every health check. */
  status(): PoolStatus;
  /**
   * Rejects every waiter with `PoolStoppedError`, cancels pending retries, destroys every worker
   * (checked out or not) and resolves when their destroys have settled. Creations still in
   * flight are not awaited: their workers are destroyed when they arrive.
   */
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * Changes options live (a hot reload) without dropping anything: a larger `size` turns overflow
   * workers into base workers and creates the rest; a smaller one dismisses idle workers, and
   * checked-out workers beyond it leave as overflow workers when released (no lease is revoked);
   * waiters are served at once if the new limits allow. An invalid patch throws `ConfigError` and
   * changes nothing.
   */
  reconfigure(patch: PoolReconfiguration): void;
}

/** The options {@link Pool.reconfigure} can change. */
export type PoolReconfiguration = Partial<Pick<PoolOptions<unknown>, 'size' | 'maxOverflow' | 'strategy' | 'checkoutTimeoutMs' | 'retryBackoffMs'>>;

/** One worker as the pool keeps it. */
interface WorkerRecord<W> {
  worker: W;
  /** `creating` until the factory's `create` has returned it; `dead` once it left the pool. */
  state: 'creating' | 'idle' | 'out' | 'dead';
  /** The lease it is out on, if any. */
  lease: PoolLease<W> | undefined;
  /** Why it exited while `creating`: what its creation fails with when the factory returns it. */
  exitedWith?: unknown;
}

/**
 * A checkout waiting for a worker. Its promise is settled by exactly one of: a worker handed
 * over (a checkin or a creation landing), the error of the creation it was the oldest waiter
 * for, its timeout, its signal, or the pool stopping.
 */
interface Waiter<W> extends QueueNode {
  resolve(lease: Lease<W>): void;
  reject(error: unknown): void;
  timer: unknown;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  startedAt: number;
}

type CheckoutOutcome = 'ok' | 'full' | 'timeout' | 'aborted';

/** The shortest wait before a retry, whatever the jitter draws. */
const minRetryDelayMs = 1;

function isPromise<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | undefined)?.then === 'function';
}

class PoolLease<W> implements Lease<W> {
  /** Set once the lease was released, destroyed or revoked; later calls are ignored. */
  done = false;

  constructor(
    private readonly pool: ResourcePool<W>,
    readonly record: WorkerRecord<W>,
  ) {}

  get worker(): W {
    return this.record.worker;
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.pool.checkin(this.record);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  destroy(reason?: unknown): void {
    if (this.done) return;
    // Stryker disable next-line BooleanLiteral: the record is dead once destroyed, and a dead record ignores a later release or destroy
    this.done = true;
    this.pool.workerExited(this.record, reason ?? 'destroyed');
  }
}

// The events without data, shared (the hot path allocates no event).
const CHECKOUT_BLOCKING: PoolEvent = Object.freeze({ type: 'checkout', mode: 'block' });
const CHECKOUT_NON_BLOCKING: PoolEvent = Object.freeze({ type: 'checkout', mode: 'no_block' });
const CHECKOUT_IDLE_ONLY: PoolEvent = Object.freeze({ type: 'checkout', mode: 'idle_only' });
const CHECKIN: PoolEvent = Object.freeze({ type: 'checkin' });
const WITHDRAW: PoolEvent = Object.freeze({ type: 'withdraw' });
const CREATED: PoolEvent = Object.freeze({ type: 'created' });
const RETRY_DUE: PoolEvent = Object.freeze({ type: 'retry_due' });
const IDLE_WORKER_EXIT: PoolEvent = Object.freeze({ type: 'worker_exit', where: 'idle' });
const OUT_WORKER_EXIT: PoolEvent = Object.freeze({ type: 'worker_exit', where: 'out' });
const START: PoolEvent = Object.freeze({ type: 'start' });
const DRAIN: PoolEvent = Object.freeze({ type: 'drain' });
const STOP: PoolEvent = Object.freeze({ type: 'stop' });

/**
 * poolboy's pool: the counts live in a {@link PoolState} that changes only through
 * `transition()` (pool-accounting.ts); this class is the shell that holds the workers and the
 * waiting checkouts and performs the effects the transition asks for. The pool's XState actor is
 * its face to supervisors.
 *
 * Effects that run user code (the factory's `create` and `destroy`, telemetry subscribers) are
 * run after the effects on the pool's own structures, one after another, so a `create` that
 * returns at once or a `destroy` that calls back into the pool always meets a consistent pool.
 *
 * Hot path: `checkout` with an idle worker and `release` with no one waiting run one transition
 * each, touch the idle deque and allocate the transition (with its new state) and one lease
 * (bench/pool.bench.ts, pool.checkout_release).
 */
export class ResourcePool<W> implements Pool<W> {
  readonly name: string;
  readonly actor: AnyActorRef;
  private options: ResolvedPoolOptions<W>;
  private readonly given: PoolOptions<W>;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private state: PoolState;
  private readonly idle = new IdleWorkers<WorkerRecord<W>>();
  private readonly waiters = new WaiterQueue<Waiter<W>>();
  /** Workers alive in the pool (idle or out). */
  private readonly all = new Set<WorkerRecord<W>>();
  /** Armed retry timers, oldest first. */
  private readonly retryTimers = new Set<unknown>();
  private readonly destroying = new Set<Promise<void>>();
  /** Calls into user code, run in order once the pool's structures are consistent. */
  private readonly later: Array<() => void> = [];
  private flushing = false;
  /** While `start()` runs: the base creations it waits for. */
  private startup: Array<PromiseLike<unknown>> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: PoolOptions<W>) {
    this.options = resolvePoolOptions<W>(options);
    this.given = { ...options };
    this.name = this.options.name;
    this.clock = this.options.clock;
    this.telemetry = this.options.telemetry;
    this.state = initialPoolState(this.options.size, this.options.maxOverflow, this.options.retryBackoffMs);
    const hooks: PoolActorHooks = {
      onShutdownRequested: () => this.run(DRAIN, undefined),
      onKilled: () => void this.stop(),
    };
    this.actor = startPoolActor(this.name, this, hooks);
  }

  /** Creates the base workers and waits for their creations; failures are retried with backoff rather than failing the start. */
  async start(): Promise<void> {
    // Stryker disable next-line ArrayDeclaration: Promise.all takes a non-promise entry as already settled
    const startup: Array<PromiseLike<unknown>> = [];
    this.startup = startup;
    try {
      this.run(START, undefined);
    // Stryker disable next-line BlockStatement: creations started after start() would be pushed into a list no one awaits, which changes nothing
    } finally {
      this.startup = undefined;
    }
    await Promise.all(startup);
  }

  // ---------------------------------------------------------------- checkout

  checkout(options?: CheckoutOptions): Promise<Lease<W>> {
    // Hot path (bench/pool.bench.ts): no options to validate.
    if (options === undefined) return this.answerCheckout(CHECKOUT_BLOCKING, undefined, this.options.checkoutTimeoutMs);
    let block: boolean;
    let timeoutMs: number;
    let signal: AbortSignal | undefined;
    try {
      ({ block, timeoutMs, signal } = resolveCheckoutOptions(options, this.options.checkoutTimeoutMs));
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted && this.state.phase === 'running') {
      this.emitCheckout('aborted', this.clock.now());
      return Promise.reject(new PoolAbortedError(this.name, signal.reason));
    }
    return this.answerCheckout(block ? CHECKOUT_BLOCKING : CHECKOUT_NON_BLOCKING, signal, timeoutMs);
  }

  tryCheckout(): Lease<W> | undefined {
    const step = transition(this.state, CHECKOUT_IDLE_ONLY);
    this.state = step.state;
    if (step.effects.length === 0) return undefined;
    // Stryker disable next-line ConditionalExpression: emitCheckout checks observed itself; this guard only saves the clock read
    if (this.telemetry.observed) this.emitCheckout('ok', this.clock.now());
    return this.lend(this.idle.take(this.options.strategy)!);
  }

  private answerCheckout(event: PoolEvent, signal: AbortSignal | undefined, timeoutMs: number): Promise<Lease<W>> {
    const step = transition(this.state, event);
    this.state = step.state;
    const effect = step.effects[0]!;
    if (effect.type === 'lend_idle') {
      // Hot path: an idle worker is handed out at once.
      // Stryker disable next-line ConditionalExpression: emitCheckout checks observed itself; this guard only saves the clock read
      if (this.telemetry.observed) this.emitCheckout('ok', this.clock.now());
      return Promise.resolve(this.lend(this.idle.take(this.options.strategy)!));
    }
    if (effect.type === 'refuse') {
      if (effect.reason === 'stopped') return Promise.reject(new PoolStoppedError(this.name));
      this.emitCheckout('full', this.clock.now());
      return Promise.reject(PoolFullError.refuse(this.name));
    }
    const waiting = this.wait(signal, timeoutMs);
    this.perform(step.effects, 1, undefined);
    this.flush();
    return waiting;
  }

  /** Queues this checkout; its timeout and its signal run from now, whether a worker is being created for it or not. */
  private wait(signal: AbortSignal | undefined, timeoutMs: number): Promise<Lease<W>> {
    return new Promise<Lease<W>>((resolve, reject) => {
      const waiter: Waiter<W> = {
        previous: undefined,
        next: undefined,
        // Stryker disable next-line BooleanLiteral: push() sets queued before anything reads it
        queued: false,
        resolve,
        reject,
        timer: undefined,
        timeoutMs,
        signal,
        onAbort: undefined,
        startedAt: this.clock.now(),
      };
      if (timeoutMs !== Number.POSITIVE_INFINITY) {
        waiter.timer = this.clock.setTimeout(() => {
          waiter.timer = undefined;
          this.withdraw(waiter, 'timeout', PoolTimeoutError.refuse(this.name, timeoutMs));
        }, timeoutMs);
      }
      if (signal) {
        waiter.onAbort = () => this.withdraw(waiter, 'aborted', new PoolAbortedError(this.name, signal.reason));
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: abort fires once, and settleWaiter removes the listener whenever the waiter leaves the queue
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** A waiter gives up (timeout or abort): it leaves the queue in O(1), wherever it stands; it was handed nothing. */
  private withdraw(waiter: Waiter<W>, outcome: CheckoutOutcome, error: unknown): void {
    // Stryker disable next-line ConditionalExpression: a waiter leaves the queue only with its timer cleared and its abort listener removed, so nothing withdraws it twice
    if (!waiter.queued) return;
    this.waiters.remove(waiter);
    this.settleWaiter(waiter);
    this.run(WITHDRAW, undefined);
    this.emitCheckout(outcome, waiter.startedAt);
    waiter.reject(error);
  }

  private settleWaiter(waiter: Waiter<W>): void {
    // Stryker disable next-line ConditionalExpression: clearing an undefined timer does nothing
    if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
    waiter.timer = undefined;
    // Stryker disable next-line LogicalOperator: onAbort is set exactly when signal is
    if (waiter.onAbort && waiter.signal) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  private lend(record: WorkerRecord<W>): Lease<W> {
    record.state = 'out';
    const lease = new PoolLease(this, record);
    record.lease = lease;
    return lease;
  }

  // ---------------------------------------------------------------- checkin and worker death

  /** A lease's release: poolboy's checkin. */
  checkin(record: WorkerRecord<W>): void {
    // Stryker disable next-line ConditionalExpression: a worker leaves 'out' only with its lease marked done, so no release reaches checkin after that
    if (record.state !== 'out') return;
    const retirement = this.retirementOf(record.worker);
    if (retirement !== undefined) {
      this.workerExited(record, retirement);
      return;
    }
    record.lease = undefined;
    this.run(CHECKIN, record);
  }

  /** Why the factory retires a released worker, or `undefined` to keep it. */
  private retirementOf(worker: W): unknown {
    const factory = this.options.worker;
    if (factory.retireOnRelease === undefined) return undefined;
    try {
      return factory.retireOnRelease(worker);
    } catch (error) {
      return error ?? 'retire_failed';
    }
  }

  /** A worker died (its lease's `destroy`, or its context's `exit`), idle or checked out: poolboy's worker exit. */
  workerExited(record: WorkerRecord<W>, reason: unknown): void {
    if (record.state === 'dead') return;
    if (record.state === 'creating') {
      // It died before its factory returned it (a connection that failed while opening): its
      // creation fails when the factory returns.
      record.state = 'dead';
      record.exitedWith = reason;
      return;
    }
    const where = record.state;
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: the record goes dead, and a dead record ignores its lease's release and destroy
    if (record.lease) record.lease.done = true;
    record.lease = undefined;
    this.run(where === 'idle' ? IDLE_WORKER_EXIT : OUT_WORKER_EXIT, record);
    // Stryker disable next-line ConditionalExpression: emit drops an event no one observes; the guard only saves building the metadata
    if (this.telemetry.observed) this.telemetry.emit(TelemetryEvents.poolWorkerExit, undefined, { pool: this.name, reason });
  }

  // ---------------------------------------------------------------- the shell

  /** Runs one transition and performs its effects. */
  private run(event: PoolEvent, record: WorkerRecord<W> | undefined): void {
    const step = transition(this.state, event);
    this.state = step.state;
    this.perform(step.effects, 0, record);
    this.flush();
  }

  /** Performs `effects` from index `from`; `record` is the worker the event is about. */
  private perform(effects: readonly PoolEffect[], from: number, record: WorkerRecord<W> | undefined): void {
    for (let index = from; index < effects.length; index += 1) {
      const effect = effects[index]!;
      switch (effect.type) {
        case 'serve_waiter': {
          const waiter = this.waiters.shift()!;
          this.settleWaiter(waiter);
          waiter.resolve(this.lend(record!));
          this.emitCheckoutLater('ok', waiter.startedAt);
          break;
        }
        case 'keep_idle':
          record!.state = 'idle';
          this.idle.add(record!);
          break;
        case 'dismiss':
          // A dismissal is always about the event's worker.
          this.retire(record!, record!.state === 'idle');
          break;
        case 'create':
          for (let count = 0; count < effect.count; count += 1) this.later.push(() => this.startCreation());
          break;
        case 'fail_waiter': {
          const waiter = this.waiters.shift()!;
          this.settleWaiter(waiter);
          waiter.reject(effect.error);
          break;
        }
        case 'schedule_retry':
          this.scheduleRetry(effect.ceilingMs);
          break;
        case 'cancel_retries':
          this.cancelRetries(effect.count);
          break;
        case 'dismiss_idle':
          // Stryker disable next-line StringLiteral: take() treats any strategy but 'lifo' as fifo
          for (let count = 0; count < effect.count; count += 1) this.retire(this.idle.take('fifo')!, false);
          break;
        case 'refuse_waiters':
          for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
            this.settleWaiter(waiter);
            waiter.reject(new PoolStoppedError(this.name));
          }
          break;
        case 'retire_all':
          for (const idle of this.idle.drain()) this.retire(idle, false);
          for (const each of [...this.all]) this.retire(each, false);
          break;
        case 'drained':
          this.later.push(() => void this.stop());
          break;
        // Stryker disable next-line StringLiteral: a no-op case: answerCheckout handles this effect
        case 'lend_idle':
        // Stryker disable next-line StringLiteral: a no-op case: answerCheckout handles this effect
        case 'wait':
        // Stryker disable next-line StringLiteral,ConditionalExpression: a no-op case: answerCheckout handles this effect
        case 'refuse':
          // Answers to a checkout; `answerCheckout` handles them.
          break;
      }
    }
  }

  /** Runs the queued calls into user code, unless an outer call is already running them. */
  private flush(): void {
    // Stryker disable next-line ConditionalExpression: flushing an empty list runs nothing
    if (this.flushing || this.later.length === 0) return;
    this.flushing = true;
    try {
      for (let index = 0; index < this.later.length; index += 1) this.later[index]!();
    } finally {
      this.later.length = 0;
      this.flushing = false;
    }
  }

  /** A worker leaves the pool and is destroyed; a lease it is out on is revoked. */
  private retire(record: WorkerRecord<W>, inIdleDeque: boolean): void {
    // Stryker disable next-line ConditionalExpression,StringLiteral: nothing retires a dead record: retire removes it from `all`, the deque skips it, a dead worker reports no exit
    if (record.state === 'dead') return;
    record.state = 'dead';
    if (inIdleDeque) this.idle.forget();
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: the record goes dead, and a dead record ignores its lease's release and destroy
    if (record.lease) record.lease.done = true;
    record.lease = undefined;
    this.all.delete(record);
    const worker = record.worker;
    this.later.push(() => this.destroyWorker(worker));
  }

  // ---------------------------------------------------------------- creating workers

  private startCreation(): void {
    const record: WorkerRecord<W> = { worker: undefined as W, state: 'creating', lease: undefined };
    const context: WorkerContext = { exit: (reason?: unknown) => this.workerExited(record, reason ?? 'exit') };
    let created: W | PromiseLike<W>;
    try {
      created = this.options.worker.create(context);
    } catch (error) {
      this.run({ type: 'creation_failed', error }, undefined);
      return;
    }
    if (!isPromise<W>(created)) return this.adopt(record, created);
    const settled = created.then(
      (worker) => this.adopt(record, worker),
      (error: unknown) => this.run({ type: 'creation_failed', error }, undefined),
    );
    this.startup?.push(settled);
  }

  private adopt(record: WorkerRecord<W>, worker: W): void {
    record.worker = worker;
    if (record.state === 'dead') {
      this.later.push(() => this.destroyWorker(worker));
      this.run({ type: 'creation_failed', error: new WorkerExitedError(this.name, record.exitedWith) }, undefined);
      return;
    }
    this.all.add(record);
    this.run(CREATED, record);
  }

  /**
   * Arms a retry for a random delay in [0, ceilingMs] (full jitter), at least 1 ms (Node's own
   * floor) so that a factory that throws at once cannot spin within one turn of a clock. Owned by
   * the pool: `stop()`, a drain and a smaller `size` disarm it.
   */
  private scheduleRetry(ceilingMs: number): void {
    const draw = this.options.random();
    const share = draw >= 0 && draw <= 1 ? draw : draw < 0 ? 0 : 1;
    const timer = this.clock.setTimeout(() => {
      this.retryTimers.delete(timer);
      this.run(RETRY_DUE, undefined);
    }, Math.max(minRetryDelayMs, ceilingMs * share));
    this.retryTimers.add(timer);
  }

  private cancelRetries(count: number): void {
    let cancelled = 0;
    for (const timer of this.retryTimers) {
      if (cancelled >= count) break;
      this.clock.clearTimeout(timer);
      this.retryTimers.delete(timer);
      cancelled += 1;
    }
  }

  private destroyWorker(worker: W): void {
    const destroy = this.options.worker.destroy;
    if (!destroy) return;
    let outcome: void | Promise<void>;
    try {
      outcome = destroy.call(this.options.worker, worker);
    } catch (error) {
      this.reportDestroyError(error);
      return;
    }
    if (isPromise<void>(outcome)) {
      const pending: Promise<void> = Promise.resolve(outcome).then(
        () => void this.destroying.delete(pending),
        (error: unknown) => {
          this.destroying.delete(pending);
          this.reportDestroyError(error);
        },
      );
      this.destroying.add(pending);
    }
  }

  private reportDestroyError(error: unknown): void {
    this.telemetry.emit(TelemetryEvents.poolWorkerDestroyFailed, undefined, { pool: this.name, error });
  }

  reconfigure(patch: PoolReconfiguration): void {
    const changeable = ['size', 'maxOverflow', 'strategy', 'checkoutTimeoutMs', 'retryBackoffMs'];
    for (const key of Object.keys(objectOption('patch', patch))) {
      if (!changeable.includes(key)) {
        throw new ConfigError(key, (patch as Record<string, unknown>)[key], `one of ${changeable.join(', ')} (cannot change live)`);
      }
    }
    const options = resolvePoolOptions<W>({ ...this.given, ...patch });
    Object.assign(this.given, patch);
    this.options = options;
    this.run({ type: 'reconfigure', size: options.size, maxOverflow: options.maxOverflow, retryBackoffMs: options.retryBackoffMs }, undefined);
  }

  // ---------------------------------------------------------------- status, transactions, stopping

  status(): PoolStatus {
    return poolStatus(this.state);
  }

  async transaction<T>(fn: (worker: W) => T | Promise<T>, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('transaction.fn', fn, 'a function (worker) => result');
    const lease = await this.checkout(options);
    try {
      return await fn(lease.worker);
    } finally {
      lease.release();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    let stopped!: () => void;
    this.stopping = new Promise<void>((resolve) => (stopped = resolve));
    this.run(STOP, undefined);
    // After the destroys just queued have run (they run before this microtask).
    void Promise.resolve()
      .then(() => Promise.allSettled([...this.destroying]))
      .then(() => {
        finishPoolActor(this.actor);
        stopped();
      });
    return this.stopping;
  }

  private emitCheckout(outcome: CheckoutOutcome, startedAt: number): void {
    // Stryker disable next-line ConditionalExpression: emit drops an event no one observes; the guard only saves the clock read
    if (!this.telemetry.observed) return;
    this.telemetry.emit(
      TelemetryEvents.poolCheckout,
      { duration: this.clock.now() - startedAt, waiting: queuedCheckouts(this.state) },
      { pool: this.name, outcome },
    );
  }

  /** Emits once the effects in progress are done: a subscriber that calls back into the pool meets it consistent. */
  private emitCheckoutLater(outcome: CheckoutOutcome, startedAt: number): void {
    // Stryker disable next-line ConditionalExpression: emitCheckout checks observed itself; the guard only saves a closure
    if (this.telemetry.observed) this.later.push(() => this.emitCheckout(outcome, startedAt));
  }
}

/**
 * Creates a pool with poolboy's semantics and waits for its base workers (creations that fail are
 * retried with a jittered backoff instead of failing the start). Invalid options reject with
 * `ConfigError` before any worker is created; it never throws.
 *
 * @example
 * ```ts
 * const pool = await createPool({ name: 'db', size: 10, maxOverflow: 5, worker: { create: () => connect(), destroy: (c) => c.end() } });
 * const rows = await pool.transaction((client) => client.query('select 1'));
 * ```
 */
export function createPool<W>(options: PoolOptions<W>): Promise<Pool<W>> {
  return attempt(() => new ResourcePool<W>(options)).then((pool) => pool.start().then(() => pool));
}
