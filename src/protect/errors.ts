import { OverseerError, hasCode } from '../core/index.js';

/** A protected call was refused by its rate limiter. */
export class RateLimitedError extends OverseerError {
  readonly code = 'ERR_RATE_LIMITED' as const;
  /** The limiter's name. */
  readonly limiter: string;
  /** When the same hit would be admitted (`Infinity` when it never can be). */
  readonly retryAfterMs: number;
  /** Why the limiter denied it. */
  readonly reason: 'limit_exceeded' | 'cost_exceeds_limit';

  constructor(limiter: string, retryAfterMs: number, reason: 'limit_exceeded' | 'cost_exceeds_limit') {
    super(`rate limiter '${limiter}' refused the call (${reason}; retry after ${Math.ceil(retryAfterMs)} ms)`);
    this.limiter = limiter;
    this.retryAfterMs = retryAfterMs;
    this.reason = reason;
  }
}

/** True when `error` is a {@link RateLimitedError}, across package copies. */
export function isRateLimitedError(error: unknown): error is RateLimitedError {
  return hasCode(error, 'ERR_RATE_LIMITED');
}

/** The stages of the protection chain, in the order a call goes through them. */
export type ProtectionStage = 'limiter' | 'breaker' | 'pool' | 'call';

const stageByCode: Record<string, ProtectionStage> = {
  ERR_RATE_LIMITED: 'limiter',
  ERR_LIMITER_UNAVAILABLE: 'limiter',
  ERR_BREAKER_OPEN: 'breaker',
  ERR_BREAKER_TIMEOUT: 'breaker',
  ERR_POOL_FULL: 'pool',
  ERR_POOL_TIMEOUT: 'pool',
  ERR_POOL_ABORTED: 'pool',
  ERR_POOL_STOPPED: 'pool',
};

/**
 * Which stage of the chain an error of a protected call comes from: the limiter (denied or
 * unavailable), the breaker (open or call timed out), the pool (full, timed out, aborted,
 * stopped), or `'call'` for anything the protected function itself threw.
 *
 * @example
 * ```ts
 * catch (error) { if (stageOf(error) === 'limiter') response.setHeader('retry-after', ...) }
 * ```
 */
export function stageOf(error: unknown): ProtectionStage {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return (typeof code === 'string' && stageByCode[code]) || 'call';
}

const refusalCodes = new Set(['ERR_RATE_LIMITED', 'ERR_BREAKER_OPEN', 'ERR_POOL_FULL', 'ERR_POOL_TIMEOUT']);

/**
 * Whether an error is a refusal: a stage declined to run the call (rate limited, breaker open,
 * no worker free) as opposed to the call failing (an error of the function, a timeout, a
 * limiter that could not be reached). Only refusals are served by a fallback.
 */
export function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && refusalCodes.has(code);
}

/** Whether an error is a refusal by the pool stage (it says nothing about the protected service). */
export function isPoolRefusal(error: unknown): boolean {
  return stageOf(error) === 'pool';
}
