import type { AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import { attempt, ConfigError } from '../core/index.js';
import { PoolAbortedError, PoolFullError, PoolStoppedError, PoolTimeoutError } from './errors.js';
import { IdleWorkers } from './idle-workers.js';
import { resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions, type WorkerContext } from './options.js';
import { finishPoolActor, startPoolActor, type PoolActorHooks } from './pool-actor.js';
import { WaiterQueue, type QueueNode } from './waiter-queue.js';

/** A checked-out worker. Release it (or destroy it) exactly once; later calls are ignored. */
export interface Lease<W> {
  readonly worker: W;
  /** Returns the worker to the pool. */
  release(): void;
  /** The worker is broken: the pool destroys it and replaces it as poolboy does. */
  destroy(reason?: unknown): void;
}

/** poolboy's `status`, plus the number of waiting checkouts. */
export interface PoolStatus {
  state: 'ready' | 'overflow' | 'full';
  idle: number;
  overflow: number;
  checkedOut: number;
  waiting: number;
}

/** Options of {@link Pool.checkout}. */
export interface CheckoutOptions {
  /** Wait for a worker when none is free (default true); false rejects at once with `PoolFullError`. */
  block?: boolean;
  /** How long to wait, in ms. Default the pool's `checkoutTimeoutMs`. */
  timeoutMs?: number;
  /** Aborting it withdraws the checkout (`PoolAbortedError`). */
  signal?: AbortSignal;
}

/** A pool of workers with poolboy's semantics; see {@link createPool}. */
export interface Pool<W> {
  readonly name: string;
  /** The pool as an XState actor, e.g. as a supervised child. */
  readonly actor: AnyActorRef;
  checkout(options?: CheckoutOptions): Promise<Lease<W>>;
  /** Checks out an idle worker synchronously, or returns `undefined` when none is idle (no overflow, no wait). */
  tryCheckout(): Lease<W> | undefined;
  /** Checks a worker out, runs `fn` with it and releases it however `fn` ends; `fn`'s error passes through unchanged. */
  transaction<T>(fn: (worker: W) => T | Promise<T>, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T>;
  status(): PoolStatus;
  /** Rejects every waiter with `PoolStoppedError`, destroys every worker (checked out or not) and resolves when done. */
  stop(): Promise<void>;
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
  /** `creating` until the factory's `create` has returned it. */
  state: 'creating' | 'idle' | 'out' | 'dead';
  /** The lease it is out on, if any. */
  lease: PoolLease<W> | undefined;
}

/** A blocking checkout waiting for a worker. */
interface Waiter<W> extends QueueNode {
  resolve(lease: Lease<W>): void;
  reject(error: unknown): void;
  timer: unknown;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  startedAt: number;
}

type CheckoutOutcome = 'ok' | 'full' | 'timeout' | 'aborted';

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

class PoolLease<W> implements Lease<W> {
  /** Set once the lease was released or destroyed; later calls are ignored. */
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

  destroy(reason?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.pool.workerDied(this.record, reason ?? 'destroyed', true);
  }
}

/** A checkout's timeout: a number >= 0, `Infinity` for none; anything else is a RangeError. */
function checkoutTimeout(value: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`checkout timeoutMs must be a number >= 0 (Infinity for none), got ${String(value)}`);
  }
  return value;
}

/** The longest a failing base worker waits before its creation is tried again. */
const maxRetryBackoffMs = 30_000;

/**
 * poolboy's pool. Counters and queues are plain structures; the pool's XState actor is its face
 * to supervisors.
 *
 * Hot path: `checkout` with an idle worker and `release` with no one waiting touch a deque and a
 * counter and allocate one lease (bench/pool.bench.ts guards them).
 */
export class ResourcePool<W> implements Pool<W> {
  readonly name: string;
  readonly actor: AnyActorRef;
  private options: ResolvedPoolOptions<W>;
  private readonly given: PoolOptions<W>;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private readonly idle = new IdleWorkers<WorkerRecord<W>>();
  private readonly waiters = new WaiterQueue<Waiter<W>>();
  private readonly all = new Set<WorkerRecord<W>>();
  private overflow = 0;
  private checkedOut = 0;
  /** Base workers whose creation is in flight (a checkout waits for them rather than overflowing). */
  private pendingBase = 0;
  private retryDelay: number;
  private phase: 'running' | 'draining' | 'stopped' = 'running';
  private drained: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  constructor(options: PoolOptions<W>) {
    this.options = resolvePoolOptions<W>(options);
    this.given = { ...options };
    this.name = this.options.name;
    this.clock = this.options.clock;
    this.telemetry = this.options.telemetry;
    this.retryDelay = this.options.retryBackoffMs;
    const hooks: PoolActorHooks = {
      onShutdownRequested: () => this.drainThenStop(),
      onKilled: () => void this.stop(),
    };
    this.actor = startPoolActor(this.name, this, hooks);
  }

  /** Creates the base workers; failures are retried with backoff rather than failing the start. */
  async start(): Promise<void> {
    const creations: Array<Promise<void>> = [];
    for (let index = 0; index < this.options.size; index += 1) {
      const created = this.createBaseWorker();
      if (created) creations.push(created);
    }
    await Promise.all(creations);
  }

  // ---------------------------------------------------------------- checkout

  checkout(options?: CheckoutOptions): Promise<Lease<W>> {
    // Hot path (bench/pool.bench.ts): an idle worker is handed out at once.
    if (this.phase !== 'running') return Promise.reject(new PoolStoppedError(this.name));
    const record = this.idle.take(this.options.strategy);
    if (record) {
      if (this.telemetry.observed) this.emitCheckout('ok', this.clock.now());
      return Promise.resolve(this.lend(record));
    }
    return this.checkoutWithoutIdle(options);
  }

  tryCheckout(): Lease<W> | undefined {
    if (this.phase !== 'running') return undefined;
    const record = this.idle.take(this.options.strategy);
    if (record === undefined) return undefined;
    if (this.telemetry.observed) this.emitCheckout('ok', this.clock.now());
    return this.lend(record);
  }

  private checkoutWithoutIdle(options: CheckoutOptions | undefined): Promise<Lease<W>> {
    const startedAt = this.clock.now();
    if (this.pendingBase === 0 && this.overflow < this.options.maxOverflow) {
      this.overflow += 1;
      return this.createOverflowWorker(startedAt);
    }
    if (options?.block === false) {
      this.emitCheckout('full', startedAt);
      return Promise.reject(PoolFullError.refuse(this.name));
    }
    return attempt(() => this.wait(options, startedAt));
  }

  private createOverflowWorker(startedAt: number): Promise<Lease<W>> {
    const failed = (error: unknown): never => {
      this.overflow -= 1;
      this.serveWaitersWithOverflow();
      throw error;
    };
    let created: WorkerRecord<W> | Promise<WorkerRecord<W>>;
    try {
      created = this.createRecord();
    } catch (error) {
      return Promise.reject(error).catch(failed);
    }
    const lendNew = (record: WorkerRecord<W>): Lease<W> => {
      if (this.phase !== 'running') {
        this.overflow -= 1;
        this.retire(record);
        throw new PoolStoppedError(this.name);
      }
      this.emitCheckout('ok', startedAt);
      return this.lend(record);
    };
    return isPromise<WorkerRecord<W>>(created) ? created.then(lendNew, failed) : Promise.resolve(lendNew(created));
  }

  private wait(options: CheckoutOptions | undefined, startedAt: number): Promise<Lease<W>> {
    const signal = options?.signal;
    if (signal?.aborted) {
      this.emitCheckout('aborted', startedAt);
      return Promise.reject(new PoolAbortedError(this.name, signal.reason));
    }
    const timeoutMs = checkoutTimeout(options?.timeoutMs ?? this.options.checkoutTimeoutMs);
    return new Promise<Lease<W>>((resolve, reject) => {
      const waiter: Waiter<W> = {
        previous: undefined,
        next: undefined,
        queued: false,
        resolve,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
        startedAt,
      };
      if (timeoutMs !== Number.POSITIVE_INFINITY) {
        waiter.timer = this.clock.setTimeout(() => {
          waiter.timer = undefined;
          this.withdraw(waiter, 'timeout', PoolTimeoutError.refuse(this.name, timeoutMs));
        }, timeoutMs);
      }
      if (signal) {
        waiter.onAbort = () => this.withdraw(waiter, 'aborted', new PoolAbortedError(this.name, signal.reason));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** A waiter gives up (timeout or abort): it leaves the queue in O(1); it was handed nothing. */
  private withdraw(waiter: Waiter<W>, outcome: CheckoutOutcome, error: unknown): void {
    if (!waiter.queued) return;
    this.waiters.remove(waiter);
    this.settleWaiter(waiter);
    this.emitCheckout(outcome, waiter.startedAt);
    waiter.reject(error);
  }

  private settleWaiter(waiter: Waiter<W>): void {
    if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
    waiter.timer = undefined;
    if (waiter.onAbort && waiter.signal) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  private lend(record: WorkerRecord<W>): Lease<W> {
    record.state = 'out';
    this.checkedOut += 1;
    const lease = new PoolLease(this, record);
    record.lease = lease;
    return lease;
  }

  // ---------------------------------------------------------------- checkin and worker death

  /** poolboy's checkin: the oldest waiter gets the worker, else an overflow worker is dismissed, else it goes idle. */
  checkin(record: WorkerRecord<W>): void {
    if (record.state !== 'out') return;
    this.checkedOut -= 1;
    record.lease = undefined;
    this.place(record);
    this.checkDrained();
  }

  /** Hands a free worker on: to the oldest waiter, else dismisses it if overflowing, else keeps it idle. */
  private place(record: WorkerRecord<W>): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.settleWaiter(waiter);
      this.emitCheckout('ok', waiter.startedAt);
      waiter.resolve(this.lend(record));
      return;
    }
    if (this.overflow > 0) {
      this.overflow -= 1;
      this.retire(record);
      return;
    }
    if (this.phase !== 'running') {
      this.retire(record);
      return;
    }
    record.state = 'idle';
    this.idle.add(record);
  }

  /**
   * poolboy's worker exit: a dead checked-out worker is replaced for the first waiter, or not
   * replaced while overflowing, or replaced into the idle queue; a dead idle worker is replaced.
   */
  workerDied(record: WorkerRecord<W>, reason: unknown, destroy: boolean): void {
    if (record.state === 'dead') return;
    if (record.state === 'creating') {
      // It died before its factory returned it (a connection that failed while opening): the
      // creation fails, and nothing was counted for it yet.
      record.state = 'dead';
      return;
    }
    const wasOut = record.state === 'out';
    record.state = 'dead';
    if (wasOut) {
      this.checkedOut -= 1;
      if (record.lease) record.lease.done = true;
      record.lease = undefined;
    } else {
      this.idle.forget();
    }
    this.all.delete(record);
    if (destroy) this.destroyWorker(record.worker);
    this.telemetry.emit(TelemetryEvents.poolWorkerExit, undefined, { pool: this.name, reason });
    if (this.phase !== 'running') {
      this.checkDrained();
      return;
    }
    if (wasOut && this.waiters.length === 0 && this.overflow > 0) {
      this.overflow -= 1;
      return;
    }
    void this.createBaseWorker();
  }

  // ---------------------------------------------------------------- creating workers

  private createRecord(): WorkerRecord<W> | Promise<WorkerRecord<W>> {
    const record: WorkerRecord<W> = { worker: undefined as W, state: 'creating', lease: undefined };
    const context: WorkerContext = { exit: (reason?: unknown) => this.workerDied(record, reason ?? 'exit', true) };
    const adopt = (worker: W): WorkerRecord<W> => {
      record.worker = worker;
      if (record.state === 'dead') {
        this.destroyWorker(worker);
        throw new Error(`pool '${this.name}': the worker exited while it was being created`);
      }
      record.state = 'out';
      this.all.add(record);
      return record;
    };
    const created = this.options.worker.create(context);
    return isPromise<W>(created) ? created.then(adopt) : adopt(created);
  }

  /** Creates a base worker and places it; on failure the first waiter gets the error and a retry is scheduled. */
  private createBaseWorker(): Promise<void> | undefined {
    this.pendingBase += 1;
    const done = (record: WorkerRecord<W>): void => {
      this.pendingBase -= 1;
      this.retryDelay = this.options.retryBackoffMs;
      this.place(record);
    };
    const failed = (error: unknown): void => {
      this.pendingBase -= 1;
      if (this.phase !== 'running') return;
      const waiter = this.waiters.shift();
      if (waiter) {
        this.settleWaiter(waiter);
        waiter.reject(error);
      }
      this.scheduleRetry();
    };
    let created: WorkerRecord<W> | Promise<WorkerRecord<W>>;
    try {
      created = this.createRecord();
    } catch (error) {
      failed(error);
      return undefined;
    }
    if (isPromise<WorkerRecord<W>>(created)) return created.then(done, failed);
    done(created);
    return undefined;
  }

  /** Tries a failed base worker again after the backoff. Meanwhile overflow workers may be created, as poolboy would. */
  private scheduleRetry(): void {
    const delay = this.retryDelay;
    this.retryDelay = Math.min(maxRetryBackoffMs, this.retryDelay * 2);
    this.clock.setTimeout(() => {
      if (this.phase === 'running') void this.createBaseWorker();
    }, delay);
  }

  /** Serves waiters with new overflow workers while the limits allow (an overflow slot came free, or grew). */
  private serveWaitersWithOverflow(): void {
    while (this.waiters.length > 0 && this.pendingBase === 0 && this.overflow < this.options.maxOverflow && this.idle.count === 0) {
      const waiter = this.waiters.shift()!;
      this.settleWaiter(waiter);
      this.overflow += 1;
      this.createOverflowWorker(waiter.startedAt).then(waiter.resolve, waiter.reject);
    }
  }

  private retire(record: WorkerRecord<W>): void {
    record.state = 'dead';
    this.all.delete(record);
    this.destroyWorker(record.worker);
  }

  private readonly destroying = new Set<Promise<void>>();

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
      const pending: Promise<void> = outcome.then(
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
    for (const key of Object.keys(patch ?? {})) {
      if (!changeable.includes(key)) {
        throw new ConfigError(key, (patch as Record<string, unknown>)[key], `one of ${changeable.join(', ')} (cannot change live)`);
      }
    }
    const given = { ...this.given, ...patch } as PoolOptions<W>;
    const options = resolvePoolOptions<W>(given);
    const growth = options.size - this.options.size;
    Object.assign(this.given, patch);
    this.options = options;
    if (this.phase !== 'running') return;
    if (growth > 0) {
      const promoted = Math.min(this.overflow, growth);
      this.overflow -= promoted;
      for (let created = promoted; created < growth; created += 1) void this.createBaseWorker();
    } else if (growth < 0) {
      let excess = -growth;
      for (let record = excess > 0 ? this.idle.take('fifo') : undefined; record; record = excess > 0 ? this.idle.take('fifo') : undefined) {
        this.retire(record);
        excess -= 1;
      }
      this.overflow += excess;
    }
    this.serveWaitersWithOverflow();
  }

  // ---------------------------------------------------------------- status, transactions, stopping

  status(): PoolStatus {
    const idle = this.idle.count;
    const { maxOverflow } = this.options;
    let state: PoolStatus['state'];
    if (this.overflow < 1) state = idle === 0 ? (maxOverflow < 1 ? 'full' : 'overflow') : 'ready';
    else state = this.overflow >= maxOverflow ? 'full' : 'overflow';
    return { state, idle, overflow: this.overflow, checkedOut: this.checkedOut, waiting: this.waiters.length };
  }

  async transaction<T>(fn: (worker: W) => T | Promise<T>, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<T> {
    const lease = await this.checkout(options);
    try {
      return await fn(lease.worker);
    } finally {
      lease.release();
    }
  }

  /** Graceful stop asked by a supervisor: no new checkouts, waiters rejected, wait for leases, then stop. */
  private drainThenStop(): void {
    if (this.phase !== 'running') return;
    this.phase = 'draining';
    this.rejectWaiters();
    for (const record of this.idle.drain()) this.retire(record);
    void new Promise<void>((resolve) => {
      this.drained = resolve;
      this.checkDrained();
    }).then(() => this.stop());
  }

  private checkDrained(): void {
    if (this.drained && this.checkedOut === 0) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
    }
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.phase = 'stopped';
    this.rejectWaiters();
    for (const record of [...this.all]) {
      if (record.lease) record.lease.done = true;
      record.lease = undefined;
      this.retire(record);
    }
    this.checkedOut = 0;
    this.overflow = 0;
    this.stopping = Promise.allSettled([...this.destroying]).then(() => {
      finishPoolActor(this.actor);
    });
    return this.stopping;
  }

  private rejectWaiters(): void {
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
      this.settleWaiter(waiter);
      waiter.reject(new PoolStoppedError(this.name));
    }
  }

  private emitCheckout(outcome: CheckoutOutcome, startedAt: number): void {
    if (!this.telemetry.observed) return;
    this.telemetry.emit(
      TelemetryEvents.poolCheckout,
      { duration: this.clock.now() - startedAt, waiting: this.waiters.length },
      { pool: this.name, outcome },
    );
  }
}

/**
 * Creates a pool with poolboy's semantics and waits for its base workers (creations that fail are
 * retried with a backoff instead of failing the start). Invalid options throw `ConfigError` at
 * once, before any worker is created.
 *
 * @example
 * ```ts
 * const pool = await createPool({ name: 'db', size: 10, maxOverflow: 5, worker: { create: () => connect(), destroy: (c) => c.end() } });
 * const rows = await pool.transaction((client) => client.query('select 1'));
 * ```
 */
export function createPool<W>(options: PoolOptions<W>): Promise<Pool<W>> {
  const pool = new ResourcePool<W>(options);
  return pool.start().then(() => pool);
}
