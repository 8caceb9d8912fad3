import { OverseerError, hasOverseerCode } from '../core/index.js';

/**
 * A lease's store could not say whether this owner holds the lease: it failed, or it did not
 * answer within the time a lease allows an operation (`ttlMs / 3`). `acquire()` rejects with it;
 * `release()` rejects with it when the store did not confirm the release (the lease is given up
 * locally all the same, and the store lets it expire after `ttlMs`).
 *
 * @example
 * ```ts
 * try { if (await lease.acquire()) await work(lease.fence!); }
 * catch (error) { if (isLeaseUnavailableError(error)) scheduleRetry(); else throw error; }
 * ```
 */
export class LeaseUnavailableError extends OverseerError {
  /** The stable code of this error. */
  readonly code = 'ERR_LEASE_UNAVAILABLE' as const;
  /** The lease's name. */
  readonly lease: string;
  /** `'timeout'`: no answer in time; `'error'`: the store answered with an error (see `cause`). */
  readonly reason: 'timeout' | 'error';

  constructor(lease: string, reason: 'timeout' | 'error', detail: string, cause?: unknown) {
    super(`lease '${lease}' is unavailable: ${detail}`, cause === undefined ? undefined : { cause });
    this.lease = lease;
    this.reason = reason;
  }
}

/** True when `error` is a {@link LeaseUnavailableError}, even from another copy of the package. */
export function isLeaseUnavailableError(error: unknown): error is LeaseUnavailableError {
  return hasOverseerCode(error, 'ERR_LEASE_UNAVAILABLE');
}
