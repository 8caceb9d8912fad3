/**
 * poolboy's pool as a model for the property specs, with creations that take time.
 *
 * poolboy creates a worker inside its gen_server call, so no one ever sees a creation in flight:
 * a caller is queued only when no worker is idle and overflow is at its maximum. Here a creation
 * takes time, so the model keeps the checkouts that wait for a worker in one FIFO, and counts the
 * creations in flight: a creation that lands is handed to the oldest waiting checkout (poolboy's
 * checkin: else dismissed while overflowing, else idle). The first `creations` waiting checkouts
 * are covered by a creation; only the others wait in poolboy's sense and show in `status().waiting`.
 *
 * The model is written from poolboy's clauses (`handle_checkout`, `handle_checkin`,
 * `handle_worker_exit`), not from the pool's code: the spec compares the two.
 */

/** How a checkout ends, as the spec sees it: served, or the code of its rejection ('failed' for a factory error). */
export type Outcome = 'served' | 'ERR_POOL_TIMEOUT' | 'ERR_POOL_ABORTED' | 'ERR_POOL_FULL' | 'ERR_POOL_STOPPED' | 'failed';

/** What the factory does with the creations it is asked for: hold them open, return at once, or throw. */
export type CreationMode = 'held' | 'sync' | 'throw';

interface ModelTimer {
  due: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

interface ModelWaiter {
  id: number;
  timer: ModelTimer | undefined;
}

/** The longest retry backoff, before jitter, and the shortest wait before a retry (the pool's constants). */
export const maxRetryBackoffMs = 30_000;
export const minRetryDelayMs = 1;

export class PoolboyModel {
  phase: 'running' | 'draining' | 'stopped' = 'running';
  idle = 0;
  out = 0;
  overflow = 0;
  /** Creations started and not settled yet, in any phase. */
  creations = 0;
  /** Base places whose creation failed and waits for its retry. */
  retrying = 0;
  /** Failed creations since the last one that succeeded. */
  failures = 0;
  waiting: ModelWaiter[] = [];
  now = 0;
  mode: CreationMode = 'sync';
  private readonly timers: ModelTimer[] = [];
  private readonly retryTimers: ModelTimer[] = [];
  private seq = 0;
  /** Creations decided and not started yet: started after the step that decided them, in order. */
  private toStart = 0;
  private settled: Array<[number, Outcome]> = [];

  constructor(
    public size: number,
    public maxOverflow: number,
    readonly retryBackoffMs: number,
    private readonly random: () => number,
  ) {}

  /** The pool starts: `size` base workers are created. */
  start(): void {
    for (let index = 0; index < this.size; index += 1) this.startCreation();
    this.runCreations();
  }

  /** Outcomes of checkouts settled since the last call. */
  takeSettled(): Array<[number, Outcome]> {
    const settled = this.settled;
    this.settled = [];
    return settled;
  }

  /** Checkouts not settled yet. */
  get pending(): number[] {
    return this.waiting.map((waiter) => waiter.id);
  }

  status() {
    if (this.phase === 'stopped') return { state: 'full', idle: 0, overflow: 0, checkedOut: 0, waiting: 0 };
    const { idle, overflow, maxOverflow } = this;
    let state: 'ready' | 'overflow' | 'full';
    if (overflow < 1) state = idle === 0 ? (maxOverflow < 1 ? 'full' : 'overflow') : 'ready';
    else state = overflow >= maxOverflow ? 'full' : 'overflow';
    return { state, idle, overflow, checkedOut: this.out, waiting: Math.max(0, this.waiting.length - this.creations) };
  }

  // ------------------------------------------------------------ poolboy's clauses

  /** handle_checkout: idle worker, else a creation already on its way, else overflow, else full or queue. */
  checkout(id: number, block: boolean, timeoutMs: number, aborted: boolean): void {
    if (this.phase !== 'running') return this.settle(id, 'ERR_POOL_STOPPED');
    if (aborted) return this.settle(id, 'ERR_POOL_ABORTED');
    if (this.idle > 0) {
      this.idle -= 1;
      this.out += 1;
      return this.settle(id, 'served');
    }
    if (this.waiting.length < this.creations) return this.queue(id, timeoutMs);
    if (this.overflow < this.maxOverflow) {
      this.overflow += 1;
      this.queue(id, timeoutMs);
      this.startCreation();
      return this.runCreations();
    }
    if (!block) return this.settle(id, 'ERR_POOL_FULL');
    this.queue(id, timeoutMs);
  }

  /** A waiting checkout is aborted. */
  abort(id: number): void {
    this.withdraw(id, 'ERR_POOL_ABORTED');
  }

  /** handle_checkin: the oldest waiter gets the worker, else it is dismissed while overflowing, else it goes idle. */
  checkin(): void {
    if (this.phase === 'stopped') return;
    this.out -= 1;
    if (this.phase === 'draining') return this.dismissWhileDraining();
    this.place();
  }

  /** handle_worker_exit for a checked-out worker: replaced for an uncovered waiter, else not replaced while overflowing, else replaced into idle. */
  checkedOutWorkerDied(): void {
    if (this.phase === 'stopped') return;
    this.out -= 1;
    if (this.phase === 'draining') return this.dismissWhileDraining();
    if (this.waiting.length > this.creations) this.startCreation();
    else if (this.overflow > 0) this.overflow -= 1;
    else this.startCreation();
    this.runCreations();
  }

  /** An idle worker dies: poolboy replaces it. */
  idleWorkerDied(): void {
    if (this.phase !== 'running') return;
    this.idle -= 1;
    this.startCreation();
    this.runCreations();
  }

  /** A creation in flight succeeds. */
  creationSucceeded(): void {
    this.created();
    this.runCreations();
  }

  /** A creation in flight fails (or its worker exited before the factory returned it). */
  creationFailed(): void {
    this.failed();
    this.runCreations();
  }

  /** Time passes; timers fire in due order, ties in the order they were set. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const next = this.nextTimer();
      if (next === undefined || next.due > target) break;
      next.cancelled = true;
      this.now = next.due;
      next.fire();
      this.runCreations();
    }
    this.now = target;
  }

  /**
   * New limits, live: a larger size turns overflow workers into base workers and creates the
   * rest; a smaller one dismisses idle workers, then drops the oldest pending retries, and counts
   * the rest as overflow (they leave when they come back). Then queued checkouts are covered.
   */
  reconfigure(size: number, maxOverflow: number): void {
    const growth = size - this.size;
    this.size = size;
    this.maxOverflow = maxOverflow;
    if (this.phase !== 'running') return;
    if (growth > 0) {
      const promoted = Math.min(this.overflow, growth);
      this.overflow -= promoted;
      for (let fresh = promoted; fresh < growth; fresh += 1) this.startCreation();
    } else if (growth < 0) {
      let excess = -growth;
      const fromIdle = Math.min(this.idle, excess);
      this.idle -= fromIdle;
      excess -= fromIdle;
      for (const timer of this.retryTimers.splice(0, Math.min(this.retrying, excess))) {
        this.cancel(timer);
        this.retrying -= 1;
        excess -= 1;
      }
      this.overflow += excess;
    }
    this.coverWaiters();
    this.runCreations();
  }

  /** A supervisor asks for a graceful stop: waiters refused, idle workers dismissed, then a stop once every lease is back. */
  drain(): void {
    if (this.phase !== 'running') return;
    this.phase = 'draining';
    this.refuseWaiters();
    this.idle = 0;
    this.cancelRetries();
    if (this.out === 0) this.stop();
  }

  stop(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.refuseWaiters();
    this.idle = 0;
    this.out = 0;
    this.overflow = 0;
    this.cancelRetries();
  }

  // ------------------------------------------------------------ internals

  /** A worker came free (checked in or created): oldest waiter, else dismissed while overflowing, else idle. */
  private place(): void {
    const waiter = this.waiting.shift();
    if (waiter) {
      this.cancel(waiter.timer);
      this.out += 1;
      this.settle(waiter.id, 'served');
    } else if (this.overflow > 0) {
      this.overflow -= 1;
    } else {
      this.idle += 1;
    }
  }

  private dismissWhileDraining(): void {
    if (this.overflow > 0) this.overflow -= 1;
    if (this.out === 0) this.stop();
  }

  private created(): void {
    this.creations -= 1;
    if (this.phase === 'stopped') return;
    if (this.phase === 'draining') return this.dismissWhileDraining();
    this.failures = 0;
    this.place();
  }

  private failed(): void {
    this.creations -= 1;
    if (this.phase === 'stopped') return;
    if (this.phase === 'draining') return this.dismissWhileDraining();
    this.failures += 1;
    const waiter = this.waiting.shift();
    if (waiter) {
      this.cancel(waiter.timer);
      this.settle(waiter.id, 'failed');
    }
    if (this.overflow > 0) this.overflow -= 1;
    else this.scheduleRetry();
    this.coverWaiters();
  }

  /** No checkout waits uncovered while overflow room is left. */
  private coverWaiters(): void {
    while (this.waiting.length > this.creations && this.overflow < this.maxOverflow) {
      this.overflow += 1;
      this.startCreation();
    }
  }

  private scheduleRetry(): void {
    this.retrying += 1;
    const ceiling = Math.min(maxRetryBackoffMs, this.retryBackoffMs * 2 ** (this.failures - 1));
    const timer = this.schedule(Math.max(minRetryDelayMs, ceiling * this.random()), () => {
      this.retryTimers.splice(this.retryTimers.indexOf(timer), 1);
      if (this.phase !== 'running' || this.retrying === 0) return;
      this.retrying -= 1;
      this.startCreation();
    });
    this.retryTimers.push(timer);
  }

  private cancelRetries(): void {
    for (const timer of this.retryTimers.splice(0)) this.cancel(timer);
    this.retrying = 0;
  }

  private startCreation(): void {
    this.creations += 1;
    this.toStart += 1;
  }

  /** Starts the creations decided so far, one after another, as the factory's mode says. */
  private runCreations(): void {
    while (this.toStart > 0) {
      this.toStart -= 1;
      if (this.mode === 'sync') this.created();
      else if (this.mode === 'throw') this.failed();
    }
  }

  private queue(id: number, timeoutMs: number): void {
    const waiter: ModelWaiter = { id, timer: undefined };
    if (timeoutMs !== Number.POSITIVE_INFINITY) waiter.timer = this.schedule(timeoutMs, () => this.withdraw(id, 'ERR_POOL_TIMEOUT'));
    this.waiting.push(waiter);
  }

  private withdraw(id: number, outcome: Outcome): void {
    const index = this.waiting.findIndex((waiter) => waiter.id === id);
    if (index === -1) return;
    const [waiter] = this.waiting.splice(index, 1);
    this.cancel(waiter!.timer);
    this.settle(id, outcome);
  }

  private refuseWaiters(): void {
    for (const waiter of this.waiting.splice(0)) {
      this.cancel(waiter.timer);
      this.settle(waiter.id, 'ERR_POOL_STOPPED');
    }
  }

  private settle(id: number, outcome: Outcome): void {
    this.settled.push([id, outcome]);
  }

  private schedule(delay: number, fire: () => void): ModelTimer {
    const timer: ModelTimer = { due: this.now + delay, seq: this.seq++, fire, cancelled: false };
    this.timers.push(timer);
    return timer;
  }

  private cancel(timer: ModelTimer | undefined): void {
    if (timer) timer.cancelled = true;
  }

  private nextTimer(): ModelTimer | undefined {
    let next: ModelTimer | undefined;
    for (let index = this.timers.length - 1; index >= 0; index -= 1) {
      const timer = this.timers[index]!;
      if (timer.cancelled) {
        this.timers.splice(index, 1);
        continue;
      }
      if (next === undefined || timer.due < next.due || (timer.due === next.due && timer.seq < next.seq)) next = timer;
    }
    return next;
  }

  /** Timers the model has pending (waiter timeouts and retries). */
  get pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }
}
