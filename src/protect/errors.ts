import { OverseerError, hasOverseerCode, isOverseerError, withoutStack } from '../core/index.js';

/** The stages of the protection chain, in the order a call goes through them. */
export type ProtectionStage = 'limiter' | 'breaker' | 'pool' | 'call';

/** A protected call was refused by its rate limiter. */
export class RateLimitedError extends OverseerError {
  /** Always `'ERR_RATE_LIMITED'`. */
  readonly code = 'ERR_RATE_LIMITED' as const;
  /** The limiter's name. */
  readonly limiter: string;
  /** When the same hit would be admitted (`Infinity` when it never can be). */
  readonly retryAfterMs: number;
  /** Why the limiter denied it. */
  readonly reason: 'limit_exceeded' | 'cost_exceeds_limit';

  /** Builds the refusal of `limiter`'s denial; `protect` raises it (through `refuse`), build one by hand only in tests. */
  constructor(limiter: string, retryAfterMs: number, reason: 'limit_exceeded' | 'cost_exceeds_limit') {
    super(`rate limiter '${limiter}' refused the call (${reason}; retry after ${Math.ceil(retryAfterMs)} ms)`);
    this.limiter = limiter;
    this.retryAfterMs = retryAfterMs;
    this.reason = reason;
  }

  /** Creates the error without a stack trace: a denied hit is an expected outcome. */
  static refuse(limiter: string, retryAfterMs: number, reason: 'limit_exceeded' | 'cost_exceeds_limit'): RateLimitedError {
    return withoutStack(() => new RateLimitedError(limiter, retryAfterMs, reason));
  }
}

/**
 * The caller aborted a protected call (its `signal`) before the function started, or while a
 * fallback was answering it: the call spent nothing further and the function never ran. `stage`
 * is where the call was; `cause` is the signal's reason. (A call aborted while it waits for a
 * worker rejects with the pool's `PoolAbortedError` instead.)
 */
export class CallAbortedError extends OverseerError {
  /** Always `'ERR_CALL_ABORTED'`. */
  readonly code = 'ERR_CALL_ABORTED' as const;
  /** The protection chain's name. */
  readonly chain: string;
  /** Where the call was when it was abandoned: the stage it was about to enter, or the refusing stage whose fallback was answering. */
  readonly stage: ProtectionStage;

  /** Builds the error of a call of `chain` abandoned at `stage` for `reason` (the signal's reason, kept as `cause`). */
  constructor(chain: string, stage: ProtectionStage, reason: unknown) {
    super(`protected call '${chain}' aborted at the ${stage} stage`, { cause: reason });
    this.chain = chain;
    this.stage = stage;
  }
}

/** True when `error` is a {@link RateLimitedError}, across package copies. */
export function isRateLimitedError(error: unknown): error is RateLimitedError {
  return hasOverseerCode(error, 'ERR_RATE_LIMITED');
}

/** True when `error` is a {@link CallAbortedError}, across package copies. */
export function isCallAbortedError(error: unknown): error is CallAbortedError {
  return hasOverseerCode(error, 'ERR_CALL_ABORTED');
}

const stageByCode: Readonly<Record<string, ProtectionStage>> = {
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
 * stopped), where an aborted call was (`CallAbortedError`), or `'call'` for anything else.
 *
 * It classifies by what the error is, an overseer error (by the package's brand, across copies)
 * with one of these codes; a foreign error carrying the same `code` string is `'call'`. An
 * overseer refusal that the protected function itself threw (from a nested chain or an inner
 * pool) is classified by what it is too; `protect` itself goes by where an error arose, so such
 * an error counts against its breaker, is never served by its fallback, and is reported with
 * stage `'call'`.
 *
 * @example
 * ```ts
 * catch (error) { if (stageOf(error) === 'limiter') response.setHeader('retry-after', ...) }
 * ```
 */
export function stageOf(error: unknown): ProtectionStage {
  if (!isOverseerError(error)) return 'call';
  if (isCallAbortedError(error)) return error.stage;
  return stageByCode[error.code] ?? 'call';
}

/**
 * Whether an error is the pool's own (full, timed out, aborted, stopped), as opposed to an error of
 * its worker factory: a worker that could not be created says something about the service.
 */
export function isPoolOwnError(error: unknown): boolean {
  return isOverseerError(error) && stageByCode[error.code] === 'pool';
}

const refusalCodes: ReadonlySet<string> = new Set(['ERR_RATE_LIMITED', 'ERR_BREAKER_OPEN', 'ERR_POOL_FULL', 'ERR_POOL_TIMEOUT']);

/**
 * Whether an error is a refusal: a stage declined to run the call (rate limited, breaker open,
 * no worker free) as opposed to the call failing (an error of the function, a timeout, a
 * limiter that could not be reached, an aborted call). Only refusals are served by a fallback.
 * Like {@link stageOf}, it goes by the package's brand and the error's code.
 */
export function isRefusal(error: unknown): boolean {
  return isOverseerError(error) && refusalCodes.has(error.code);
}
