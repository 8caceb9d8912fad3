import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TransferListItem, Worker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { loadPiscina } from './optional-dependencies.js';
import type { AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import { withoutStack } from '../core/index.js';
import type { ChildSpec, StartContext } from '../supervisor/index.js';
import { splitChildOptions } from '../supervisor/internal.js';
import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import { PoolFullError, PoolStoppedError } from './errors.js';
import {
  TaskAbortedError,
  UncloneableValueError,
  WorkerCrashedError,
  WorkerStartError,
  type ThreadCrashReason,
  type ThreadStartFailure,
} from './thread-errors.js';
import { resolveRunOptions, resolveThreadPoolOptions, type ResolvedThreadPoolOptions, type ThreadPoolOptions } from './thread-options.js';
import { failThreadPoolActor, finishThreadPoolActor, startThreadPoolActor } from './thread-pool-actor.js';
import type { ThreadFailure, ThreadFailureKey, ThrownNull, WorkerModuleArgument } from './thread-protocol.js';
import {
  createThreadQueue,
  stepThreadQueue,
  type TaskRefusal,
  type ThreadQueueEffect,
  type ThreadQueueEvent,
  type ThreadQueueState,
} from './thread-queue.js';

/** Options of {@link ThreadPool.run}. */
export interface ThreadRunOptions {
  /** Aborting it withdraws the task: a queued task leaves the queue, a running one has its thread terminated (and replaced). Default none. */
  signal?: AbortSignal;
  /** Buffers and ports moved into the thread instead of copied (they become unusable here). Default none: everything is copied. */
  transferList?: readonly TransferListItem[];
}

/** What `ThreadPool.status()` returns: the pool's phase and its threads and tasks now, for health checks and dashboards. */
export interface ThreadPoolStatus {
  /** `running`; `draining` after a graceful shutdown request; `stopped`; `failed` once its threads could not start (`maxStartFailures`). */
  phase: 'running' | 'draining' | 'stopped' | 'failed';
  /** Threads alive or starting. */
  threads: number;
  /** Started threads with no task. */
  idle: number;
  /** Tasks on a thread. */
  running: number;
  /** Tasks waiting for a thread (one starting, or busy). */
  queued: number;
  /** Tasks settled since the pool started, whatever their outcome; a task refused by `run()` itself does not count. */
  completed: number;
  /** Threads that died without the pool ending them, while starting, idle or running a task. */
  crashed: number;
}

/**
 * A pool of worker threads on piscina, as `createThreadPool` or `threadPoolChild` makes it: CPU
 * work moved off the event loop, each task run by the worker entry's default export.
 */
export interface ThreadPool<Task = unknown, Result = unknown> {
  /** Names it in telemetry, errors and an infrastructure tree (`options.name`). */
  readonly name: string;
  /** The pool as an XState actor, e.g. as a supervised child. */
  readonly actor: AnyActorRef;
  /**
   * Runs `task` on a thread, after the tasks submitted before it. Rejects with the task's own
   * error when it throws, with `WorkerCrashedError` when its thread dies first,
   * `UncloneableValueError` when the task, its result or its error cannot be cloned across,
   * `TaskAbortedError` when `signal` aborts it, `PoolFullError` (at once; the task never runs)
   * when `maxQueue` tasks wait, `WorkerStartError` when no thread can start to run it (the
   * worker entry cannot load), `PoolStoppedError` once the pool stops, `ConfigError` (at once;
   * the task never runs) for options that are not an object, a `signal` that is not an
   * AbortSignal or a `transferList` that is not an array.
   */
  run(task: Task, options?: ThreadRunOptions): Promise<Result>;
  /** Its threads and tasks now (see {@link ThreadPoolStatus}); cheap enough for every health check. */
  status(): ThreadPoolStatus;
  /** Rejects queued and running tasks with `PoolStoppedError`, terminates every thread and resolves when they have exited. */
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The module piscina loads in every thread: it loads the worker entry and checks what goes back (see thread-entry.mjs). */
const threadEntry = fileURLToPath(new URL('./thread-entry.mjs', import.meta.url));
const workerModuleArgument: WorkerModuleArgument = '--overseer-worker-module=';
const threadFailureKey: ThreadFailureKey = '@@overseer/thread-failure';
/** The longest start-up backoff, unless `retryBackoffMs` is longer. */
const maxBackoffMs = 30_000;

type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/** What a thread died of, as the pool saw it. */
interface ThreadDeath extends ThreadStartFailure {
  /** How long it lived, in ms on the pool's clock. */
  uptime: number;
}

/** A thread the pool started, while it lives. */
interface ThreadHandle {
  readonly worker: Worker;
  readonly startedAt: number;
  /** Its first `'error'` or `'exit'` has been handled (an uncaught exception sends both). */
  ended: boolean;
}

/**
 * One task, from `run()` to its settlement. Its promise is the wait `run()` hands out; it is
 * settled exactly once, by the first of: its thread's answer (`deliver`), its thread's death
 * (`crashed`, settled by piscina's rejection that follows), its signal (`abort`), a refusal
 * (`full`), no thread being able to start (`startFailed`), or the pool stopping or failing. The
 * accounting decides which; whatever piscina reports afterwards is dropped.
 */
class TaskRecord<Task, Result> {
  readonly promise: Promise<Result>;
  resolve!: (value: Result) => void;
  reject!: (error: unknown) => void;
  /** It passed `run()` (was not refused there): its settlement counts in `completed`. */
  accepted = false;
  /** The thread a `run` effect sent it to. */
  thread: number | undefined = undefined;
  settled = false;
  /** piscina settled it inside `run()`: it was never posted to the thread. */
  // Stryker disable next-line BooleanLiteral: post() sets it before any read (taskError reads it only for a task post() sent)
  unsent = false;
  /** Its thread died under it: the rejection piscina sends next is reported as WorkerCrashedError. */
  crash: ThreadDeath | undefined = undefined;
  /** The outcome its thread reported, held for the `deliver` effect. */
  // Stryker disable next-line BooleanLiteral: answered() sets it before the deliver effect that reads it
  fulfilled = false;
  outcome: unknown = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly task: Task,
    readonly signal: AbortSignal | undefined,
    readonly transferList: readonly TransferListItem[] | undefined,
  ) {
    this.promise = new Promise<Result>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

type Effect<Task, Result> = ThreadQueueEffect<TaskRecord<Task, Result>, ThreadDeath>;
type Event<Task, Result> = ThreadQueueEvent<TaskRecord<Task, Result>, ThreadDeath>;

const ignore = (): void => undefined;

/** A task that can never reach a thread (structured clone refuses functions). See `startThread`. */
const unpostable = (): void => undefined;

function crashReasonOf(error: unknown): ThreadCrashReason {
  return (error as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out_of_memory' : 'uncaught_exception';
}

function isThreadFailure(error: unknown): error is ThreadFailure {
  const kind = (error as Partial<ThreadFailure> | null)?.[threadFailureKey];
  return kind === 'uncloneable_result' || kind === 'uncloneable_error';
}

/**
 * The thread pool behind {@link createThreadPool}. piscina runs the threads, posts the tasks and
 * reports their outcomes; the pool keeps its own queue and accounting in front of it
 * (`thread-queue.ts`, a pure transition function) and performs what that decides:
 *
 * - piscina gets a task only when the accounting has an idle thread for it, and its load balancer
 *   (ours) places the task on exactly that thread, so piscina never queues: the queue bound,
 *   submission order and refusals are the accounting's, for every task, with a signal or not.
 * - piscina starts threads only when told (piscina's own `minThreads` is 0, its idle timeout
 *   off): the accounting starts them for `minThreads` and for waiting tasks, ends idle ones on the
 *   pool's clock, and backs off after a thread dies while starting. A thread counts as started
 *   when piscina reports it ready (`workerCreate`), which it does once the thread entry, and so
 *   the worker entry, has loaded: a thread that ends before that died while starting.
 * - The pool listens to each thread's `'error'` and `'exit'` (after piscina, in the same event),
 *   so the accounting knows which task a dead thread was running before piscina's rejection of
 *   that task reaches the pool: a task's outcome is classified by what happened to its thread,
 *   never by the text of an error.
 * - An aborted running task has its thread terminated by the pool; the thread is replaced.
 *
 * What this relies on in piscina 5 (no error message text of piscina is read anywhere):
 * - `loadBalancer` is called synchronously inside `run()` with the ready threads when piscina's own
 *   queue is empty; the worker it returns gets the task at once; `null` makes piscina queue the
 *   task and start a thread when it has fewer than `maxThreads`.
 * - A task queued with a `signal` that aborts right away leaves piscina's queue synchronously.
 * - `threads` lists the Worker objects, including one started a moment ago; `completed` counts a
 *   task piscina failed to post synchronously inside `run()`.
 * - With `minThreads: 0`, `'workerCreate'` is sent once a thread has loaded `filename` (and just
 *   before piscina counts it as ready); piscina never replaces a thread itself and, with
 *   `idleTimeout: Infinity`, never ends one.
 * - piscina's own `'error'`/`'exit'` listeners on a thread (added when it creates it, so before
 *   ours) drop the thread and reject its task; `destroy()` ends every thread and resolves once
 *   they have exited.
 * - Its worker passes `argv` to the thread, loads `filename` with `import()` (awaiting top-level
 *   `await`) before reporting ready, and posts the handler's result or thrown value back.
 *
 * Hot path (bench/pool.bench.ts, `thread.run@1`, `thread.run@64`): `run` on an idle thread is one
 * transition and one `piscina.run`; a settled task is one transition, which hands its thread the
 * next waiting task.
 */
export class PiscinaThreadPool<Task = unknown, Result = unknown> implements ThreadPool<Task, Result> {
  readonly name: string;
  readonly actor: AnyActorRef;
  private readonly options: ResolvedThreadPoolOptions;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private readonly piscina: Piscina<Task, Result>;
  private readonly queue: ThreadQueueState<TaskRecord<Task, Result>, ThreadDeath>;
  private readonly threads = new Map<number, ThreadHandle>();
  /** Every Worker piscina ever reported, to tell the one a start added. */
  private readonly known = new WeakSet<Worker>();
  private readonly idleTimers = new Map<number, unknown>();
  private backoffTimer: { handle: unknown } | undefined;
  /** The thread the load balancer must place the task being handed to piscina on. */
  private assignee: number | undefined;
  /** Ids for threads piscina failed to start (see `startThread`), below 0 to never meet a real one. */
  private phantomThreads = 0;
  private completed = 0;
  private crashed = 0;
  private stopping: Promise<void> | undefined;
  private failure: WorkerStartError | undefined;

  /** piscina's load balancer: the thread the accounting chose, or none (then piscina starts a thread). */
  private readonly balance: LoadBalancer = (_task, workers) => {
    const thread = this.assignee;
    // Stryker disable next-line ConditionalExpression: no worker has an undefined id, so without an assignee the loop finds none and null is returned all the same
    if (thread !== undefined) for (const worker of workers) if (worker.id === thread) return worker;
    return null;
  };

  constructor(options: ThreadPoolOptions) {
    this.options = resolveThreadPoolOptions(options);
    this.name = this.options.name;
    this.clock = this.options.clock;
    this.telemetry = this.options.telemetry;
    const { filename, minThreads, maxThreads, maxQueue, maxStartFailures, resourceLimits, execArgv, argv, env, workerData } = this.options;
    const { Piscina: PiscinaPool } = loadPiscina();
    this.piscina = new PiscinaPool<Task, Result>({
      filename: threadEntry,
      name: 'default',
      // The accounting decides when threads start and end; piscina only starts one when told.
      minThreads: 0,
      maxThreads,
      idleTimeout: Number.POSITIVE_INFINITY,
      loadBalancer: this.balance,
      execArgv: [...execArgv],
      argv: [`${workerModuleArgument}${pathToFileURL(filename).href}`, ...(argv ?? [])],
      recordTiming: false,
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
      ...(env === undefined ? {} : { env: { ...env } }),
      ...(workerData === undefined ? {} : { workerData }),
    });
    // piscina emits 'error' for a thread that dies with no task (one dying while it starts, too);
    // the threads' own listeners report every death, and an unheard 'error' event would throw.
    this.piscina.on('error', ignore);
    this.piscina.on('workerCreate', (thread: { id: number }) => {
      // Sent just before piscina counts the thread as ready: hand it tasks once it does.
      const id = thread.id;
      queueMicrotask(() => this.step({ type: 'ready', thread: id }));
    });
    const { state, effects } = createThreadQueue<TaskRecord<Task, Result>, ThreadDeath>({ minThreads, maxThreads, maxQueue, maxStartFailures });
    this.queue = state;
    this.actor = startThreadPoolActor(this.name, this, {
      onShutdownRequested: () => this.step({ type: 'drain' }),
      onKilled: () => void this.stop(),
    });
    this.perform(effects);
  }

  // ---------------------------------------------------------------- running tasks

  run(task: Task, options?: ThreadRunOptions): Promise<Result> {
    // Hot path (bench/pool.bench.ts): one record, one transition.
    let signal: AbortSignal | undefined;
    let transferList: readonly TransferListItem[] | undefined;
    if (options !== undefined) {
      try {
        ({ signal, transferList } = resolveRunOptions(options));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (signal?.aborted && this.queue.phase === 'running') return Promise.reject(new TaskAbortedError(this.name, signal.reason));
    const record = new TaskRecord<Task, Result>(task, signal, transferList);
    this.step({ type: 'submit', task: record });
    if (!record.settled) {
      record.accepted = true;
      if (signal !== undefined) {
        record.onAbort = () => {
          // A task whose thread died is settled by piscina's rejection, a microtask away.
          if (record.crash === undefined) this.step({ type: 'abort', task: record, thread: record.thread });
        };
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: an AbortSignal dispatches 'abort' once, and settle() removes the listener on every path
        signal.addEventListener('abort', record.onAbort, { once: true });
      }
    }
    return record.promise;
  }

  private step(event: Event<Task, Result>): void {
    this.perform(stepThreadQueue(this.queue, event));
  }

  /** Performs what the accounting decided, in order. */
  private perform(effects: ReadonlyArray<Effect<Task, Result>>): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'run':
          this.post(effect.task, effect.thread);
          break;
        case 'deliver':
          this.deliver(effect.task);
          break;
        case 'reject':
          this.settle(effect.task);
          effect.task.reject(this.refusal(effect.task, effect.reason));
          break;
        case 'startFailed':
          this.settle(effect.task);
          effect.task.reject(this.startError(effect.death));
          break;
        case 'crashed':
          // piscina has rejected the dead thread's task; the rejection reaches `answered` in a
          // microtask and settles it then, with what piscina reported as the cause.
          effect.task.crash = effect.death;
          break;
        case 'startThread':
          this.startThread();
          break;
        case 'endThread':
          void this.threads.get(effect.thread)?.worker.terminate();
          break;
        case 'armIdleTimer':
          this.armIdleTimer(effect.thread, effect.epoch);
          break;
        case 'cancelIdleTimer':
          this.cancelIdleTimer(effect.thread);
          break;
        case 'armBackoff':
          this.armBackoff(effect.failures);
          break;
        case 'threadLost':
          this.reportLost(effect.thread, effect.during, effect.death);
          break;
        case 'failed':
          this.failure = this.startError(effect.death);
          this.end();
          break;
        case 'stopped':
          this.end();
          break;
      }
    }
  }

  /** Hands `record` to piscina, which places it on `thread` (idle, loaded) through the load balancer. */
  private post(record: TaskRecord<Task, Result>, thread: number): void {
    record.thread = thread;
    this.assignee = thread;
    const completedBefore = this.piscina.completed;
    const pending =
      record.transferList === undefined
        ? this.piscina.run(record.task)
        : this.piscina.run(record.task, { transferList: record.transferList as TransferListItem[] });
    this.assignee = undefined;
    // piscina settles a task inside run() only when posting it failed (it could not be cloned, or
    // its transferList was refused): it never reached the thread.
    record.unsent = this.piscina.completed !== completedBefore;
    pending.then(
      (value) => this.answered(record, true, value),
      (error: unknown) => this.answered(record, false, error),
    );
  }

  /** piscina reported the task's outcome: its own, or (when its thread died) the death. */
  private answered(record: TaskRecord<Task, Result>, fulfilled: boolean, outcome: unknown): void {
    if (record.settled) return;
    if (record.crash !== undefined) {
      this.settle(record);
      record.reject(new WorkerCrashedError(this.name, record.crash, fulfilled ? undefined : outcome));
      return;
    }
    record.fulfilled = fulfilled;
    record.outcome = outcome;
    this.step({ type: 'settled', task: record, thread: record.thread as number });
  }

  private deliver(record: TaskRecord<Task, Result>): void {
    this.settle(record);
    const outcome = record.outcome;
    record.outcome = undefined;
    if (record.fulfilled) record.resolve(outcome as Result);
    else record.reject(this.taskError(record, outcome));
  }

  /** The error a task rejects with when its thread answered with a rejection. */
  private taskError(record: TaskRecord<Task, Result>, error: unknown): unknown {
    if ((error as Partial<ThrownNull> | null)?.[threadFailureKey] === 'thrown_null') return null;
    if (isThreadFailure(error)) {
      const part = error[threadFailureKey] === 'uncloneable_result' ? 'result' : 'error';
      return new UncloneableValueError(this.name, part, new DOMException(error.message, error.name));
    }
    if (record.unsent && (error as { name?: unknown } | null)?.name === 'DataCloneError') return new UncloneableValueError(this.name, 'task', error);
    return error;
  }

  private refusal(record: TaskRecord<Task, Result>, reason: TaskRefusal): Error {
    switch (reason) {
      case 'full':
        return withoutStack(() => new PoolFullError(this.name, `pool '${this.name}' is full: ${this.options.maxQueue} tasks already wait for a thread (maxQueue)`));
      case 'aborted':
        return new TaskAbortedError(this.name, record.signal?.reason);
      case 'stopped':
        return new PoolStoppedError(this.name);
    }
  }

  private startError(death: ThreadDeath): WorkerStartError {
    return new WorkerStartError(this.name, this.options.filename, death, this.queue.startFailures);
  }

  private settle(record: TaskRecord<Task, Result>): void {
    record.settled = true;
    if (record.onAbort !== undefined) record.signal?.removeEventListener('abort', record.onAbort);
    if (record.accepted) this.completed += 1;
  }

  // ---------------------------------------------------------------- threads

  /**
   * Starts one thread. piscina starts a thread only for a task it cannot place on a ready one
   * (our load balancer places nothing without an assignee); the pool submits one that could never
   * be posted (a function) and withdraws it at once, and piscina adds a thread.
   */
  private startThread(): void {
    const withdraw = new AbortController();
    this.piscina.run(unpostable as Task, { signal: withdraw.signal }).catch(ignore);
    withdraw.abort();
    const worker = this.unseenThread();
    if (worker === undefined) {
      // piscina added none (it counts maxThreads already): cannot happen while the accounting
      // counts threads as piscina does. Reported as a thread that died while starting, so that
      // the pool backs off and, at worst, fails, rather than waits for a thread for ever.
      this.phantomThreads -= 1;
      const thread = this.phantomThreads;
      this.step({ type: 'spawned', thread });
      const cause = new Error(`pool '${this.name}': piscina started no thread`);
      this.step({ type: 'exited', thread, death: { reason: 'uncaught_exception', threadId: undefined, exitCode: undefined, cause, uptime: 0 } });
      return;
    }
    const thread = worker.threadId;
    const handle: ThreadHandle = { worker, startedAt: this.clock.now(), ended: false };
    this.threads.set(thread, handle);
    // After piscina's own listeners (added when it created the thread): piscina has dropped the
    // thread, so a replacement can start, and has rejected its task; that rejection reaches
    // `answered` in a microtask, after the accounting has marked the task as crashed here.
    worker.on('error', (error: unknown) => this.threadEnded(thread, handle, crashReasonOf(error), undefined, error));
    worker.on('exit', (exitCode: number) => this.threadEnded(thread, handle, 'exit', exitCode, undefined));
    this.step({ type: 'spawned', thread });
  }

  private unseenThread(): Worker | undefined {
    for (const worker of this.piscina.threads) {
      if (this.known.has(worker)) continue;
      this.known.add(worker);
      return worker;
    }
    return undefined;
  }

  private threadEnded(thread: number, handle: ThreadHandle, reason: ThreadCrashReason, exitCode: number | undefined, cause: unknown): void {
    if (handle.ended) return;
    handle.ended = true;
    this.threads.delete(thread);
    const death: ThreadDeath = { reason, threadId: thread, exitCode, cause, uptime: this.clock.now() - handle.startedAt };
    this.step({ type: 'exited', thread, death });
  }

  /** Counts a death the pool did not cause and emits `pool.worker.exit`, before the thread's task is rejected. */
  private reportLost(thread: number, during: 'startup' | 'idle' | 'task', death: ThreadDeath): void {
    this.crashed += 1;
    if (!this.telemetry.observed) return;
    const metadata: Record<string, unknown> = { pool: this.name, reason: death.reason, thread };
    if (death.exitCode !== undefined) metadata.exitCode = death.exitCode;
    if (during === 'startup') metadata.startup = true;
    this.telemetry.emit(TelemetryEvents.poolWorkerExit, { uptime: death.uptime }, metadata);
  }

  private armIdleTimer(thread: number, epoch: number): void {
    const ms = this.options.idleTimeoutMs;
    if (ms === Number.POSITIVE_INFINITY) return;
    const handle = this.clock.setTimeout(() => {
      this.idleTimers.delete(thread);
      this.step({ type: 'idleTimeout', thread, epoch });
    }, ms);
    this.idleTimers.set(thread, handle);
  }

  private cancelIdleTimer(thread: number): void {
    if (!this.idleTimers.has(thread)) return;
    this.clock.clearTimeout(this.idleTimers.get(thread));
    this.idleTimers.delete(thread);
  }

  /**
   * No thread starts until this timer fires: `retryBackoffMs`, doubled with each start-up death in
   * a row. Its end is the timer (or the pool stopping, which clears it).
   */
  private armBackoff(failures: number): void {
    // A thread that was starting alongside died too: the longer backoff replaces the armed one.
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer.handle);
    const base = this.options.retryBackoffMs;
    const ms = Math.min(base * 2 ** (failures - 1), Math.max(maxBackoffMs, base));
    const timer = {
      handle: this.clock.setTimeout(() => {
        // Stryker disable next-line ConditionalExpression,EqualityOperator: the timer firing is always the armed one (armBackoff clears the one it replaces), and clearing a fired timer's handle later is harmless
        if (this.backoffTimer === timer) this.backoffTimer = undefined;
        this.step({ type: 'backoffElapsed' });
      }, ms),
    };
    this.backoffTimer = timer;
  }

  // ---------------------------------------------------------------- status and stopping

  status(): ThreadPoolStatus {
    const queue = this.queue;
    return {
      phase: queue.phase,
      threads: queue.threads.size + queue.spawning,
      idle: queue.idle.length,
      running: queue.busy,
      queued: queue.waiting.size,
      completed: this.completed,
      crashed: this.crashed,
    };
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  stop(): Promise<void> {
    // Stryker disable next-line ConditionalExpression: once stopping is set the accounting is stopped or failed, and a stop event there changes nothing and returns no effects
    if (this.stopping === undefined) this.step({ type: 'stop' });
    return this.stopping ?? Promise.resolve();
  }

  /** The accounting has let go of every task and thread: cancel the timers, end the threads, end the actor. */
  private end(): void {
    for (const handle of this.idleTimers.values()) this.clock.clearTimeout(handle);
    this.idleTimers.clear();
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer.handle);
    this.backoffTimer = undefined;
    this.stopping = this.piscina.destroy().then(() => {
      this.threads.clear();
      if (this.failure === undefined) finishThreadPoolActor(this.actor);
      else failThreadPoolActor(this.actor, this.failure);
    });
  }
}

/**
 * Creates a pool of worker threads on piscina for CPU-bound work. Each thread loads `filename`
 * (a plain JavaScript module; see `thread-protocol.ts`) and runs tasks with its default export, in
 * submission order. A thread that crashes fails only its own task (`WorkerCrashedError`), is
 * replaced, and is reported as `pool.worker.exit`; queued tasks carry on. Threads that die while
 * loading `filename` are restarted after a backoff (`retryBackoffMs`, doubling); after
 * `maxStartFailures` in a row the pool fails (`WorkerStartError`).
 *
 * @example
 * ```ts
 * const hashing = createThreadPool<{ kind: 'sha256'; data: string; rounds: number }, string>({ name: 'hashing', filename: new URL('./workers/cpu.mjs', import.meta.url), maxThreads: 4 });
 * const digest = await hashing.run({ kind: 'sha256', data: 'x', rounds: 1000 }, { signal: AbortSignal.timeout(1000) });
 * await hashing.stop();
 * ```
 */
export function createThreadPool<Task = unknown, Result = unknown>(options: ThreadPoolOptions): ThreadPool<Task, Result> {
  return new PiscinaThreadPool<Task, Result>(options);
}

/** The child spec {@link threadPoolChild} returns: its id is the pool's name. */
export type ThreadPoolChildSpec<Task = unknown, Result = unknown> = ChildSpec & {
  /** The thread pool's name (`options.name`). */
  id: string;
  /** The pool of the current run of the child; a restart creates a new pool (new threads). */
  readonly pool: ThreadPool<Task, Result> | undefined;
};

/**
 * A child spec that runs a thread pool under a supervisor, with the supervisor's clock and
 * telemetry unless the options give their own. Asked to stop, the pool refuses new tasks, rejects
 * queued ones (`PoolStoppedError`), lets running ones finish and then ends its threads; when the
 * child's `shutdown` time runs out first, the supervisor stops it outright and every thread is
 * terminated at once. A pool whose threads cannot start (`maxStartFailures` start-up deaths in a
 * row) exits with an error (`WorkerStartError`): the supervisor restarts it per its intensity.
 *
 * @example
 * ```ts
 * const cpu = threadPoolChild({ name: 'cpu', filename: cpuWorker, maxThreads: 4, shutdown: 2000 });
 * await startSupervisor({ children: [cpu] });
 * await cpu.pool!.run({ kind: 'fib', n: 30 });
 * ```
 */
export function threadPoolChild<Task = unknown, Result = unknown>(
  options: ThreadPoolOptions & Omit<ChildSpec, 'id' | 'start'>,
): ThreadPoolChildSpec<Task, Result> {
  const { child, own: poolOptions } = splitChildOptions(options);
  resolveThreadPoolOptions(poolOptions);
  let pool: PiscinaThreadPool<Task, Result> | undefined;
  return {
    id: poolOptions.name,
    ...child,
    start: (context: StartContext) => {
      pool = new PiscinaThreadPool<Task, Result>({
        ...poolOptions,
        clock: poolOptions.clock ?? context.clock,
        telemetry: poolOptions.telemetry ?? context.telemetry,
      });
      return pool.actor;
    },
    get pool(): ThreadPool<Task, Result> | undefined {
      return pool;
    },
  };
}
