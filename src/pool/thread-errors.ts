import { OverseerError, hasCode } from '../core/index.js';

/**
 * How a worker thread died: an exception nobody caught (outside the task's own promise),
 * `process.exit` in the thread, or its `resourceLimits` heap ran out.
 */
export type ThreadCrashReason = 'uncaught_exception' | 'exit' | 'out_of_memory';

/** What is known about one thread's crash. */
export interface ThreadCrash {
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
 * task may have run partly. `cause` is what the thread died of, as piscina reported it.
 *
 * @example
 * ```ts
 * try { await pool.run(task); }
 * catch (error) { if (isWorkerCrashedError(error)) retryOnce(task, error.reason); else throw error; }
 * ```
 */
export class WorkerCrashedError extends OverseerError {
  readonly code = 'ERR_WORKER_CRASHED' as const;
  /** The thread pool's name. */
  readonly pool: string;
  readonly reason: ThreadCrashReason;
  readonly threadId: number | undefined;
  readonly exitCode: number | undefined;

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
  readonly code = 'ERR_TASK_ABORTED' as const;
  readonly pool: string;

  constructor(pool: string, reason: unknown) {
    super(`pool '${pool}': task aborted`, { cause: reason });
    this.pool = pool;
  }
}

/** True when `error` is a {@link WorkerCrashedError}, across package copies. */
export function isWorkerCrashedError(error: unknown): error is WorkerCrashedError {
  return hasCode(error, 'ERR_WORKER_CRASHED');
}

/** True when `error` is a {@link TaskAbortedError}, across package copies. */
export function isTaskAbortedError(error: unknown): error is TaskAbortedError {
  return hasCode(error, 'ERR_TASK_ABORTED');
}
