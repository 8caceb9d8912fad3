import { admitted, limitExceeded } from '../decision.js';
import { laterDelay } from './float-time.js';
import type { KeyedAlgorithm } from './keyed-algorithm.js';
import type { Limits } from './limits.js';

/**
 * Token bucket: a new bucket is full (`limit` tokens) and refills continuously at `limit` tokens
 * per `windowMs` (fractional tokens, not whole seconds), never beyond `limit`. A hit takes `cost`
 * tokens if that many are there. A denied hit may retry once the missing tokens have refilled,
 * rounded up to a whole millisecond.
 *
 * What it guarantees: over any span of `T` ms at most `limit + limit · T / windowMs` units are
 * admitted (a full bucket's burst plus the refill), and never more than `limit` at one instant.
 * It does not admit "at most `limit` per `windowMs`": a full bucket emptied at once refills
 * `limit` more within the same `windowMs`.
 */

/** A key's bucket. */
export interface TokenBucket {
  /** Tokens left at `updatedAt`, fractional. */
  tokens: number;
  /** When `tokens` was last set. */
  updatedAt: number;
}

/** The tokens in the bucket at `time` (never before its last update): refilled, capped at `limit`. */
export function tokensAt(bucket: TokenBucket, time: number, limits: Limits): number {
  const elapsed = time > bucket.updatedAt ? time - bucket.updatedAt : 0;
  const tokens = bucket.tokens + (elapsed * limits.limit) / limits.windowMs;
  return tokens < limits.limit ? tokens : limits.limit;
}

/** The token bucket; see the module comment. */
export const tokenBucket: KeyedAlgorithm<TokenBucket> = {
  fresh: (now, limits) => ({ tokens: limits.limit, updatedAt: now }),

  hit(bucket, now, cost, limits) {
    const time = now > bucket.updatedAt ? now : bucket.updatedAt;
    const available = tokensAt(bucket, time, limits);
    if (available >= cost) {
      const left = available - cost;
      bucket.tokens = left;
      bucket.updatedAt = time;
      const remaining = Math.floor(left);
      return admitted(limits.limit - remaining, remaining);
    }
    let delay = time - now + Math.ceil(((cost - available) * limits.windowMs) / limits.limit);
    // The formula's rounding can fall a hair short: step on a whole millisecond (or, on a clock
    // whose doubles are coarser, one double) at a time until it fits.
    while (tokensAt(bucket, now + delay, limits) < cost) delay = laterDelay(now, delay);
    return limitExceeded(delay);
  },

  isFresh: (bucket, now, limits) => tokensAt(bucket, now, limits) >= limits.limit,

  used: (bucket, now, limits) => limits.limit - Math.floor(tokensAt(bucket, now, limits)),
};
