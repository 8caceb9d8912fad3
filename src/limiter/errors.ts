import { OverseerError, hasOverseerCode } from '../core/index.js';

/**
 * A limiter could not decide: its store (Redis) failed or did not answer within `timeoutMs`, and
 * no `insurance` limiter was configured to answer instead. Whether to let the request through
 * (fail open) or refuse it (fail closed) is the caller's policy.
 *
 * @example
 * ```ts
 * try { decision = await limiter.hit(ip); }
 * catch (error) { if (isLimiterUnavailableError(error)) decision = { allowed: true, count: 0, remaining: 0 }; else throw error; }
 * ```
 */
export class LimiterUnavailableError extends OverseerError {
  /** Always `'ERR_LIMITER_UNAVAILABLE'`. */
  readonly code = 'ERR_LIMITER_UNAVAILABLE' as const;
  /** The limiter's name. */
  readonly limiter: string;
  /** `'timeout'`: no answer within `timeoutMs`; `'error'`: the store answered with an error (see `cause`). */
  readonly reason: 'timeout' | 'error';

  /** Builds the error of `limiter`; `detail` ends the message. Raised by the Redis limiter; build one by hand only in tests. */
  constructor(limiter: string, reason: 'timeout' | 'error', detail: string, cause?: unknown) {
    super(`limiter '${limiter}' is unavailable: ${detail}`, cause === undefined ? undefined : { cause });
    this.limiter = limiter;
    this.reason = reason;
  }
}

/** True when `error` is a {@link LimiterUnavailableError}, even from another copy of the package (by the package's brand and the code). */
export function isLimiterUnavailableError(error: unknown): error is LimiterUnavailableError {
  return hasOverseerCode(error, 'ERR_LIMITER_UNAVAILABLE');
}
