import type { TransferListItem, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import { splitChildOptions, type ChildSpec, type StartContext } from '../supervisor/index.js';
import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import { PoolFullError, PoolStoppedError } from './errors.js';
import { finishPoolActor, startPoolActor } from './pool-actor.js';
import { TaskAbortedError, WorkerCrashedError, type ThreadCrash, type ThreadCrashReason } from './thread-errors.js';
import { resolveThreadPoolOptions, type ResolvedThreadPoolOptions, type ThreadPoolOptions } from './thread-options.js';

/** Options of {@link ThreadPool.run}. */
export interface ThreadRunOptions {
  /** Aborting it withdraws the task: a queued task leaves the queue, a running one has its thread terminated (and replaced). */
  signal?: AbortSignal;
  /** Buffers and ports moved into the thread instead of copied. */
  transferList?: readonly TransferListItem[];
}

/** A snapshot of a thread pool. */
export interface ThreadPoolStatus {
  /** `running`; `draining` after a graceful shutdown request; `stopped`. */
  phase: 'running' | 'draining' | 'stopped';
  /** Threads alive or starting. */
  threads: number;
  /** Started threads with no task. */
  idle: number;
  /** Tasks on a thread. */
  running: number;
  /** Tasks waiting for a thread. */
  queued: number;
  /** Tasks settled since the pool started, whatever their outcome. */
  completed: number;
  /** Threads that crashed since the pool started. */
  crashed: number;
}

/** A pool of worker threads on piscina; see {@link createThreadPool}. */
export interface ThreadPool<Task = unknown, Result = unknown> {
  readonly name: string;
  /** The pool as an XState actor, e.g. as a supervised child. */
  readonly actor: AnyActorRef;
  /**
   * Runs `task` on a thread. Rejects with the task's own error when it throws, with
   * `WorkerCrashedError` when its thread dies first, `TaskAbortedError` when `signal` aborts it,
   * `PoolFullError` when the queue is at `maxQueue`, `PoolStoppedError` once the pool stops.
   */
  run(task: Task, options?: ThreadRunOptions): Promise<Result>;
  status(): ThreadPoolStatus;
  /** Rejects queued and running tasks with `PoolStoppedError`, terminates every thread and resolves when they have exited. */
  stop(): Promise<void>;
}

/** One thread as the pool watches it. */
interface ThreadRecord {
  readonly threadId: number;
  readonly startedAt: number;
  /** piscina ended it on purpose (idle timeout, an aborted task, stopping) before it exited. */
  planned: boolean;
  /** What it died of, when it reported an error before exiting. */
  crash: ThreadCrash | undefined;
}

/** piscina's stable messages (its `errors.ts`) for the outcomes we translate. */
const piscinaMessages = Object.freeze({
  queueAtLimit: 'Task queue is at limit',
  noQueue: 'No task queue available and all Workers are busy',
  terminating: 'Terminating worker thread',
  exitedPrefix: 'worker exited with code: ',
});

const ignore = (): void => undefined;

/** A task that can never reach a thread: structured clone refuses functions. See `ensureProgress`. */
const unpostable = (): void => undefined;

function messageOf(error: unknown): string | undefined {
  return error instanceof Error ? error.message : undefined;
}

function isPiscinaAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function crashReasonOf(error: unknown): ThreadCrashReason {
  return (error as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out_of_memory' : 'uncaught_exception';
}

/**
 * The thread pool behind {@link createThreadPool}: piscina runs the threads and the queue; this
 * class watches every thread so that a crash is told apart from a task's own error, reported once
 * per thread, and never strands queued tasks.
 *
 * How a crash is recognised. piscina rejects the tasks of a dead thread with the thread's
 * `'error'` value (uncaught exception, out of memory), or with a fresh `Error('worker exited with
 * code: N')` (process.exit); a task's own error arrives the same way. So the pool attaches its own
 * `'error'` and `'exit'` listeners to each thread, ahead of piscina's, and marks the crash value
 * (or the exit message) before piscina rejects the tasks; the rejection handlers, which run in the
 * microtasks after, look the mark up. Marks are dropped on the next turn of the event loop. A
 * thread piscina ends on purpose (idle timeout, aborted task, stop) is announced by its
 * `workerDestroy` event before it exits, which is how a planned exit is told from `process.exit`.
 *
 * Threads are discovered by scanning `piscina.threads` wherever piscina may have started one: after
 * `run` (it starts threads synchronously there), after each settlement (it starts them while
 * handling a finished task) and after a thread exits. piscina posts tasks to threads that are still
 * starting, so waiting for its `workerCreate` event (sent once a thread is ready) would miss
 * crashes during start-up.
 *
 * Hot path (bench/pool.bench.ts, `thread.run@1`, `thread.run@64`): `run` adds one `then` to
 * piscina's own round trip, and a scan of the threads only while fewer than `maxThreads` run.
 */
export class PiscinaThreadPool<Task = unknown, Result = unknown> implements ThreadPool<Task, Result> {
  readonly name: string;
  readonly actor: AnyActorRef;
  private readonly options: ResolvedThreadPoolOptions;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private readonly piscina: Piscina<Task, Result>;
  private readonly watched = new WeakSet<Worker>();
  private readonly threads = new Map<number, ThreadRecord>();
  /** Crash values (and exit messages) of threads that died in this turn of the event loop. */
  private readonly crashMarks = new Map<unknown, ThreadCrash>();
  private afterTurnScheduled = false;
  private phase: 'running' | 'draining' | 'stopped' = 'running';
  private inFlight = 0;
  private completed = 0;
  private crashed = 0;
  private stopping: Promise<void> | undefined;

  private readonly succeeded = (value: Result): Result => {
    this.settle();
    return value;
  };

  private readonly failed = (error: unknown): never => {
    this.settle();
    throw this.translate(error, undefined);
  };

  constructor(options: ThreadPoolOptions) {
    this.options = resolveThreadPoolOptions(options);
    this.name = this.options.name;
    this.clock = this.options.clock;
    this.telemetry = this.options.telemetry;
    const { filename, minThreads, maxThreads, maxQueue, idleTimeoutMs, resourceLimits, execArgv, argv, env, workerData } = this.options;
    this.piscina = new Piscina<Task, Result>({
      filename,
      name: 'default',
      minThreads,
      maxThreads,
      maxQueue,
      idleTimeout: idleTimeoutMs,
      execArgv: [...execArgv],
      recordTiming: false,
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
      ...(argv === undefined ? {} : { argv: [...argv] }),
      ...(env === undefined ? {} : { env: { ...env } }),
      ...(workerData === undefined ? {} : { workerData }),
    });
    // piscina emits 'error' for a thread that dies with no task (and a close that times out);
    // the threads' own listeners report crashes, and an unheard 'error' event would throw.
    this.piscina.on('error', ignore);
    this.piscina.on('workerCreate', () => this.watchThreads());
    this.piscina.on('workerDestroy', (thread: { id: number }) => {
      // Sent synchronously as piscina drops a thread; before it exits when piscina ends it on purpose.
      const record = this.threads.get(thread.id);
      if (record !== undefined) {
        record.planned = true;
        this.threads.delete(thread.id);
      }
      // A thread ended under an aborted task strands the queue just as a crash does.
      if (this.phase === 'running') this.scheduleAfterTurn();
    });
    this.watchThreads();
    this.actor = startPoolActor(this.name, this, {
      onShutdownRequested: () => this.drainThenStop(),
      onKilled: () => void this.stop(),
    });
  }

  // ---------------------------------------------------------------- running tasks

  run(task: Task, options?: ThreadRunOptions): Promise<Result> {
    // Hot path (bench/pool.bench.ts): no options object, no closure per task.
    if (this.phase !== 'running') return Promise.reject(new PoolStoppedError(this.name));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new TaskAbortedError(this.name, signal.reason));
    let pending: Promise<Result>;
    try {
      pending =
        options === undefined
          ? this.piscina.run(task)
          : this.piscina.run(task, {
              ...(signal === undefined ? {} : { signal }),
              ...(options.transferList === undefined ? {} : { transferList: options.transferList }),
            });
    } catch (error) {
      return Promise.reject(error);
    }
    this.inFlight += 1;
    this.watchThreads();
    if (signal === undefined) return pending.then(this.succeeded, this.failed);
    return pending.then(this.succeeded, (error: unknown) => {
      this.settle();
      throw this.translate(error, signal);
    });
  }

  private settle(): void {
    this.inFlight -= 1;
    this.completed += 1;
    this.watchThreads();
    if (this.phase === 'draining' && this.inFlight === 0) void this.stop();
  }

  /** What a rejection from piscina means for the caller. */
  private translate(error: unknown, signal: AbortSignal | undefined): unknown {
    const message = messageOf(error);
    const crash = this.crashMarks.get(error) ?? (message === undefined ? undefined : this.crashMarks.get(message));
    if (crash) return new WorkerCrashedError(this.name, crash, error);
    if (isPiscinaAbort(error)) {
      if (signal?.aborted) return new TaskAbortedError(this.name, signal.reason);
      if (this.phase !== 'running') return new PoolStoppedError(this.name);
    }
    if (message === piscinaMessages.terminating && this.phase !== 'running') return new PoolStoppedError(this.name);
    if (message === piscinaMessages.queueAtLimit || message === piscinaMessages.noQueue) return new PoolFullError(this.name);
    // A thread that was not watched yet (cannot happen as far as we know): still a crash.
    if (message?.startsWith(piscinaMessages.exitedPrefix)) {
      const exitCode = Number(message.slice(piscinaMessages.exitedPrefix.length));
      return new WorkerCrashedError(this.name, { reason: 'exit', threadId: undefined, exitCode }, error);
    }
    if ((error as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new WorkerCrashedError(this.name, { reason: 'out_of_memory', threadId: undefined, exitCode: undefined }, error);
    }
    return error;
  }

  // ---------------------------------------------------------------- watching threads

  /**
   * Starts watching every thread piscina has that is not watched yet. `threads` drops a thread at
   * the moment piscina does (workerDestroy, or our own listeners when it dies), so while it holds
   * `maxThreads` threads piscina can have started no other and the scan is skipped.
   */
  private watchThreads(): void {
    if (this.threads.size >= this.options.maxThreads) return;
    for (const thread of this.piscina.threads) if (!this.watched.has(thread)) this.watch(thread);
  }

  private watch(thread: Worker): void {
    this.watched.add(thread);
    const record: ThreadRecord = { threadId: thread.threadId, startedAt: this.clock.now(), planned: false, crash: undefined };
    this.threads.set(record.threadId, record);
    // Ahead of piscina's listeners: the mark must exist before piscina rejects the thread's tasks.
    thread.prependListener('error', (error: unknown) => {
      this.threads.delete(record.threadId);
      record.crash = { reason: crashReasonOf(error), threadId: record.threadId, exitCode: undefined };
      this.markCrash(error, record.crash);
      this.reportCrash(record, record.crash);
    });
    thread.prependListener('exit', (exitCode: number) => this.threadExited(record, exitCode));
  }

  private threadExited(record: ThreadRecord, exitCode: number): void {
    this.threads.delete(record.threadId);
    if (record.crash !== undefined || record.planned || this.phase === 'stopped') return;
    const crash: ThreadCrash = { reason: 'exit', threadId: record.threadId, exitCode };
    // piscina rejects the thread's tasks with this message right after this listener.
    this.markCrash(`${piscinaMessages.exitedPrefix}${exitCode}`, crash);
    this.reportCrash(record, crash);
  }

  /** Counts a crash and emits `pool.worker.exit`, before the thread's tasks are rejected. */
  private reportCrash(record: ThreadRecord, crash: ThreadCrash): void {
    this.crashed += 1;
    if (!this.telemetry.observed) return;
    const metadata: Record<string, unknown> = { pool: this.name, reason: crash.reason, thread: crash.threadId };
    if (crash.exitCode !== undefined) metadata.exitCode = crash.exitCode;
    this.telemetry.emit(TelemetryEvents.poolWorkerExit, { uptime: this.clock.now() - record.startedAt }, metadata);
  }

  private markCrash(key: unknown, crash: ThreadCrash): void {
    this.crashMarks.set(key, crash);
    this.scheduleAfterTurn();
  }

  /** Once per turn in which a thread ended: drop the crash marks, watch new threads, keep the queue moving. */
  private scheduleAfterTurn(): void {
    if (this.afterTurnScheduled) return;
    this.afterTurnScheduled = true;
    // Not a delay but "after this I/O callback and its microtasks": by then piscina has rejected
    // the dead thread's tasks, our handlers have read the marks, and piscina has (or has not)
    // replaced the thread. Not the Clock: a TestClock would hold it back for ever.
    setImmediate(() => {
      this.afterTurnScheduled = false;
      this.crashMarks.clear();
      this.watchThreads();
      this.ensureProgress();
    }).unref();
  }

  /**
   * Makes sure queued tasks still have a thread after one ended (a crash, or a thread terminated
   * under an aborted task). piscina replaces such a thread only up to `minThreads`, and after a
   * crash not at all once any thread has died during start-up; with no thread left, its queued
   * tasks would wait for the next `run` for ever (minThreads 0 shows it).
   * The one public way to make piscina start a thread is to submit a task that finds no idle
   * thread; the pool submits one that cannot be posted (a function) and withdraws it at once.
   */
  private ensureProgress(): void {
    if (this.phase !== 'running') return;
    const piscina = this.piscina;
    const wanted = Math.min(this.options.maxThreads, Math.max(this.options.minThreads, piscina.queueSize > 0 ? 1 : 0));
    let missing = wanted - piscina.threads.length;
    if (missing <= 0 || piscina.idleThreads > 0) return;
    for (; missing > 0; missing -= 1) {
      const withdraw = new AbortController();
      piscina.run(unpostable as Task, { signal: withdraw.signal }).catch(ignore);
      withdraw.abort();
    }
    this.watchThreads();
  }

  // ---------------------------------------------------------------- status and stopping

  status(): ThreadPoolStatus {
    if (this.phase === 'stopped') {
      return { phase: 'stopped', threads: 0, idle: 0, running: 0, queued: 0, completed: this.completed, crashed: this.crashed };
    }
    const queued = Math.min(this.piscina.queueSize, this.inFlight);
    return {
      phase: this.phase,
      threads: this.piscina.threads.length,
      idle: this.piscina.idleThreads,
      running: this.inFlight - queued,
      queued,
      completed: this.completed,
      crashed: this.crashed,
    };
  }

  /** Graceful stop asked by a supervisor: refuse new tasks, reject queued ones, let running ones finish, then stop. */
  private drainThenStop(): void {
    if (this.phase !== 'running') return;
    this.phase = 'draining';
    // force: queued tasks are rejected at once (translated to PoolStoppedError); running ones go
    // on. We stop when our own count of tasks reaches zero rather than await close(), which waits
    // its closeTimeout when a thread crashes while it drains.
    this.piscina.close({ force: true }).catch(ignore);
    if (this.inFlight === 0) void this.stop();
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.phase = 'stopped';
    this.stopping = this.piscina.destroy().then(() => {
      this.threads.clear();
      finishPoolActor(this.actor);
    });
    return this.stopping;
  }
}

/**
 * Creates a pool of worker threads on piscina for CPU-bound work. Each thread loads `filename`
 * (a plain JavaScript module; see `thread-protocol.ts`) and runs tasks with its default export. A
 * thread that crashes fails only its own task (`WorkerCrashedError`), is replaced, and is reported
 * as `pool.worker.exit`; queued tasks carry on.
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
  id: string;
  /** The pool of the current run of the child; a restart creates a new pool (new threads). */
  readonly pool: ThreadPool<Task, Result> | undefined;
};

/**
 * A child spec that runs a thread pool under a supervisor, with the supervisor's clock and
 * telemetry unless the options give their own. Asked to stop, the pool refuses new tasks, rejects
 * queued ones (`PoolStoppedError`), lets running ones finish and then ends its threads; when the
 * child's `shutdown` time runs out first, the supervisor stops it outright and every thread is
 * terminated at once.
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
