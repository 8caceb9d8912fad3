import { OverseerError, hasCode, withoutStack } from '../core/index.js';

/** A non-blocking checkout found no free worker and no room to overflow. Carries no stack trace when the pool raises it. */
export class PoolFullError extends OverseerError {
  readonly code = 'ERR_POOL_FULL' as const;
  readonly pool: string;

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
  readonly code = 'ERR_POOL_TIMEOUT' as const;
  readonly pool: string;
  readonly timeoutMs: number;

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

/** The pool was stopped: waiting checkouts are rejected and no new one is served. */
export class PoolStoppedError extends OverseerError {
  readonly code = 'ERR_POOL_STOPPED' as const;
  readonly pool: string;

  constructor(pool: string) {
    super(`pool '${pool}' is stopped`);
    this.pool = pool;
  }
}

/** A checkout was aborted through its `AbortSignal`; `cause` is the signal's reason. */
export class PoolAbortedError extends OverseerError {
  readonly code = 'ERR_POOL_ABORTED' as const;
  readonly pool: string;

  constructor(pool: string, reason: unknown) {
    super(`pool '${pool}': checkout aborted`, { cause: reason });
    this.pool = pool;
  }
}

/** True when `error` is a {@link PoolFullError}, across package copies. */
export function isPoolFullError(error: unknown): error is PoolFullError {
  return hasCode(error, 'ERR_POOL_FULL');
}

/** True when `error` is a {@link PoolTimeoutError}, across package copies. */
export function isPoolTimeoutError(error: unknown): error is PoolTimeoutError {
  return hasCode(error, 'ERR_POOL_TIMEOUT');
}

/** True when `error` is a {@link PoolStoppedError}, across package copies. */
export function isPoolStoppedError(error: unknown): error is PoolStoppedError {
  return hasCode(error, 'ERR_POOL_STOPPED');
}

/** True when `error` is a {@link PoolAbortedError}, across package copies. */
export function isPoolAbortedError(error: unknown): error is PoolAbortedError {
  return hasCode(error, 'ERR_POOL_ABORTED');
}
