import { OverseerError, describeValue, hasOverseerCode } from '../core/index.js';

/**
 * How a worker thread died: an exception nobody caught (outside the task's own promise),
 * `process.exit` in the thread, or its `resourceLimits` heap ran out.
 */
export type ThreadCrashReason = 'uncaught_exception' | 'exit' | 'out_of_memory';

/** What is known about one thread's crash. */
export interface ThreadCrash {
  /** What killed the thread (see {@link ThreadCrashReason}). */
  reason: ThreadCrashReason;
  /** The thread's id while it ran (`worker.threadId`), when known. */
  threadId: number | undefined;
  /** The thread's exit code, for `reason: 'exit'`. */
  exitCode: number | undefined;
}

const describeReason: Record<ThreadCrashReason, string> = {
  uncaught_exception: 'an uncaught exception',
  exit: 'process.exit',
  out_of_memory: 'out of memory',
};

/**
 * The thread running a task died before the task settled. The pool has replaced the thread; the
 * task may have run partly. `cause` is what the thread died of, as piscina reported it (the
 * uncaught value, or piscina's error naming the exit code).
 *
 * @example
 * ```ts
 * try { await pool.run(task); }
 * catch (error) { if (isWorkerCrashedError(error)) retryOnce(task, error.reason); else throw error; }
 * ```
 */
export class WorkerCrashedError extends OverseerError {
  /** Always `'ERR_WORKER_CRASHED'`. */
  readonly code = 'ERR_WORKER_CRASHED' as const;
  /** The thread pool's name. */
  readonly pool: string;
  /** What killed the thread (see {@link ThreadCrashReason}); `'out_of_memory'` suggests raising `resourceLimits`. */
  readonly reason: ThreadCrashReason;
  /** The thread's id while it ran (`worker.threadId`), when known. */
  readonly threadId: number | undefined;
  /** The thread's exit code, for `reason: 'exit'`. */
  readonly exitCode: number | undefined;

  /** Builds the error of a task of `pool` whose thread died as `crash` says; `cause` is what it died of. */
  constructor(pool: string, crash: ThreadCrash, cause: unknown) {
    const thread = crash.threadId === undefined ? 'a worker thread' : `worker thread ${crash.threadId}`;
    const code = crash.exitCode === undefined ? '' : ` with code ${crash.exitCode}`;
    super(`pool '${pool}': ${thread} crashed (${describeReason[crash.reason]}${code}) while running the task`, { cause });
    this.pool = pool;
    this.reason = crash.reason;
    this.threadId = crash.threadId;
    this.exitCode = crash.exitCode;
  }
}

/** A task was withdrawn through its `AbortSignal`, queued or running (a running task's thread is terminated and replaced). `cause` is the signal's reason. */
export class TaskAbortedError extends OverseerError {
  /** Always `'ERR_TASK_ABORTED'`. */
  readonly code = 'ERR_TASK_ABORTED' as const;
  /** The thread pool's name. */
  readonly pool: string;

  /** Builds the error of a task of `pool` withdrawn for `reason` (the signal's reason, kept as `cause`). */
  constructor(pool: string, reason: unknown) {
    super(`pool '${pool}': task aborted`, { cause: reason });
    this.pool = pool;
  }
}

/** True when `error` is a {@link WorkerCrashedError}, across package copies. */
export function isWorkerCrashedError(error: unknown): error is WorkerCrashedError {
  return hasOverseerCode(error, 'ERR_WORKER_CRASHED');
}

/** True when `error` is a {@link TaskAbortedError}, across package copies. */
export function isTaskAbortedError(error: unknown): error is TaskAbortedError {
  return hasOverseerCode(error, 'ERR_TASK_ABORTED');
}

/**
 * What is known about a thread that died while it started (loading its worker entry): what
 * {@link WorkerStartError} is built from, its `cause` included.
 */
export interface ThreadStartFailure extends ThreadCrash {
  /** What it died of: the error its worker entry threw while loading, or `undefined` for `process.exit`. */
  cause: unknown;
}

function describeStartFailure(failure: ThreadStartFailure): string {
  const { cause } = failure;
  if (cause instanceof Error) return `${describeReason[failure.reason]}: ${cause.name}: ${cause.message}`;
  if (failure.exitCode !== undefined) return `${describeReason[failure.reason]} with code ${failure.exitCode}`;
  return `${describeReason[failure.reason]}: ${describeValue(cause)}`;
}

/**
 * The pool's threads cannot start: each one died while loading the worker entry (it throws at its
 * top level, has a syntax error or a missing import, or has no default export function). Tasks no
 * thread can run are rejected with it; after `maxStartFailures` start-up deaths in a row the pool
 * fails (its actor ends with this error, which a supervisor restarts per its intensity) and every
 * later `run()` rejects with it. `cause` is what the last thread died of.
 *
 * @example
 * ```ts
 * try { await pool.run(task); }
 * catch (error) { if (isWorkerStartError(error)) log.error(error.message, error.cause); }
 * ```
 */
export class WorkerStartError extends OverseerError {
  /** Always `'ERR_WORKER_START_FAILED'`. */
  readonly code = 'ERR_WORKER_START_FAILED' as const;
  /** The thread pool's name. */
  readonly pool: string;
  /** The worker entry the threads could not load (an absolute path). */
  readonly filename: string;
  /** How the last thread died while loading it (see {@link ThreadCrashReason}). */
  readonly reason: ThreadCrashReason;
  /** The last thread's exit code, for `reason: 'exit'`. */
  readonly exitCode: number | undefined;
  /** Threads that died while starting, in a row, when this was raised. */
  readonly failures: number;

  /** Builds the error of `pool`, whose threads could not load `filename`, from the last `failure` and the count in a row. */
  constructor(pool: string, filename: string, failure: ThreadStartFailure, failures: number) {
    const times = failures === 1 ? 'once' : `${failures} times in a row`;
    super(
      `pool '${pool}': worker threads cannot start: a thread died while loading ${filename} (${describeStartFailure(failure)}); threads died while starting ${times}`,
      { cause: failure.cause },
    );
    this.pool = pool;
    this.filename = filename;
    this.reason = failure.reason;
    this.exitCode = failure.exitCode;
    this.failures = failures;
  }
}

/** Which value could not cross the thread boundary: the task going in, its result or the value it threw coming back. */
export type UncloneablePart = 'task' | 'result' | 'error';

const describePart: Record<UncloneablePart, string> = {
  task: 'the task could not be sent to a thread',
  result: "the task's result could not be sent back from its thread",
  error: 'the value the task threw could not be sent back from its thread',
};

/**
 * A value could not cross the thread boundary: the structured clone algorithm refused it (a
 * function, a symbol, a class instance holding one...). `part` says which value; `cause` is the
 * `DataCloneError`. The thread lives on: a task that could not be sent never ran, a result or
 * thrown value that could not be sent back was produced by a task that ran to its end.
 *
 * @example
 * ```ts
 * catch (error) { if (isUncloneableValueError(error) && error.part === 'result') ... }
 * ```
 */
export class UncloneableValueError extends OverseerError {
  /** Always `'ERR_THREAD_UNCLONEABLE'`. */
  readonly code = 'ERR_THREAD_UNCLONEABLE' as const;
  /** The thread pool's name. */
  readonly pool: string;
  /** Which value could not be cloned (see {@link UncloneablePart}). */
  readonly part: UncloneablePart;

  /** Builds the error of `pool` for `part`; `cause` is the `DataCloneError`. */
  constructor(pool: string, part: UncloneablePart, cause: unknown) {
    const detail = (cause as { message?: unknown } | null)?.message;
    super(`pool '${pool}': ${describePart[part]}${typeof detail === 'string' ? ` (${detail})` : ''}`, { cause });
    this.pool = pool;
    this.part = part;
  }
}

/** True when `error` is a {@link WorkerStartError}, across package copies. */
export function isWorkerStartError(error: unknown): error is WorkerStartError {
  return hasOverseerCode(error, 'ERR_WORKER_START_FAILED');
}

/** True when `error` is an {@link UncloneableValueError}, across package copies. */
export function isUncloneableValueError(error: unknown): error is UncloneableValueError {
  return hasOverseerCode(error, 'ERR_THREAD_UNCLONEABLE');
}
