import { OverseerError, hasOverseerCode, withoutStack } from '../core/index.js';

/**
 * A non-blocking checkout found no free worker and no room to overflow, or a thread pool's queue
 * already holds `maxQueue` tasks. Carries no stack trace when the pool raises it.
 */
export class PoolFullError extends OverseerError {
  /** Always `'ERR_POOL_FULL'`. */
  readonly code = 'ERR_POOL_FULL' as const;
  /** The pool's name. */
  readonly pool: string;

  /** Builds the refusal of `pool`, with a message saying what was full; pools raise it themselves (build one by hand in tests). */
  constructor(pool: string, message = `pool '${pool}' is full: no idle worker and no overflow left`) {
    super(message);
    this.pool = pool;
  }

  /** Creates the error without a stack trace: a full pool is an expected outcome. */
  static refuse(pool: string): PoolFullError {
    return withoutStack(() => new PoolFullError(pool));
  }
}

/** A blocking checkout waited `timeoutMs` without getting a worker. Carries no stack trace when the pool raises it. */
export class PoolTimeoutError extends OverseerError {
  /** Always `'ERR_POOL_TIMEOUT'`. */
  readonly code = 'ERR_POOL_TIMEOUT' as const;
  /** The pool's name. */
  readonly pool: string;
  /** How long the checkout waited, in ms (its `timeoutMs`, or the pool's `checkoutTimeoutMs`). */
  readonly timeoutMs: number;

  /** Builds the timeout of a checkout of `pool` after `timeoutMs`; pools raise it themselves (build one by hand in tests). */
  constructor(pool: string, timeoutMs: number) {
    super(`pool '${pool}': checkout timed out after ${timeoutMs} ms`);
    this.pool = pool;
    this.timeoutMs = timeoutMs;
  }

  /** Creates the error without a stack trace: a timed-out wait is an expected outcome. */
  static refuse(pool: string, timeoutMs: number): PoolTimeoutError {
    return withoutStack(() => new PoolTimeoutError(pool, timeoutMs));
  }
}

/** The pool was stopped: waiting checkouts (or queued tasks) are rejected and no new one is served. */
export class PoolStoppedError extends OverseerError {
  /** Always `'ERR_POOL_STOPPED'`. */
  readonly code = 'ERR_POOL_STOPPED' as const;
  /** The pool's name. */
  readonly pool: string;

  /** Builds the refusal of the stopped `pool`; pools raise it themselves (build one by hand in tests). */
  constructor(pool: string) {
    super(`pool '${pool}' is stopped`);
    this.pool = pool;
  }
}

/** A checkout was aborted through its `AbortSignal`; `cause` is the signal's reason. */
export class PoolAbortedError extends OverseerError {
  /** Always `'ERR_POOL_ABORTED'`. */
  readonly code = 'ERR_POOL_ABORTED' as const;
  /** The pool's name. */
  readonly pool: string;

  /** Builds the error of a checkout of `pool` aborted for `reason` (the signal's reason, kept as `cause`). */
  constructor(pool: string, reason: unknown) {
    super(`pool '${pool}': checkout aborted`, { cause: reason });
    this.pool = pool;
  }
}

/**
 * A worker reported its own death (`WorkerContext.exit`) before its factory's `create` had
 * returned it, e.g. a connection that closed while it was opening: its creation failed, and the
 * checkout it was created for is rejected with this error. `cause` is the reason it gave to
 * `exit` (`'exit'` when it gave none). Like a factory's own error, it is a failure of the service
 * the workers connect to, not a refusal of the pool.
 */
export class WorkerExitedError extends OverseerError {
  /** Always `'ERR_WORKER_EXITED'`. */
  readonly code = 'ERR_WORKER_EXITED' as const;
  /** The pool's name. */
  readonly pool: string;

  /** Builds the error of `pool` for a worker that exited with `reason` (kept as `cause`) while being created. */
  constructor(pool: string, reason: unknown) {
    super(`pool '${pool}': the worker exited while it was being created`, { cause: reason });
    this.pool = pool;
  }
}

/** True when `error` is a {@link PoolFullError}, across package copies (by the package's brand and the code). */
export function isPoolFullError(error: unknown): error is PoolFullError {
  return hasOverseerCode(error, 'ERR_POOL_FULL');
}

/** True when `error` is a {@link PoolTimeoutError}, across package copies (by the package's brand and the code). */
export function isPoolTimeoutError(error: unknown): error is PoolTimeoutError {
  return hasOverseerCode(error, 'ERR_POOL_TIMEOUT');
}

/** True when `error` is a {@link PoolStoppedError}, across package copies (by the package's brand and the code). */
export function isPoolStoppedError(error: unknown): error is PoolStoppedError {
  return hasOverseerCode(error, 'ERR_POOL_STOPPED');
}

/** True when `error` is a {@link PoolAbortedError}, across package copies (by the package's brand and the code). */
export function isPoolAbortedError(error: unknown): error is PoolAbortedError {
  return hasOverseerCode(error, 'ERR_POOL_ABORTED');
}

/** True when `error` is a {@link WorkerExitedError}, across package copies (by the package's brand and the code). */
export function isWorkerExitedError(error: unknown): error is WorkerExitedError {
  return hasOverseerCode(error, 'ERR_WORKER_EXITED');
}
