import { admitted, limitExceeded } from '../decision.js';
import { laterDelay } from './float-time.js';
import type { KeyedAlgorithm } from './keyed-algorithm.js';
import type { Limits } from './limits.js';

/**
 * Leaky bucket (as a meter): a new bucket is empty and leaks continuously at `limit` units per
 * `windowMs`; a hit pours `cost` units in if the level stays within `limit`. A denied hit may
 * retry once enough has leaked, rounded up to a whole millisecond. It is the token bucket seen
 * from the other side: the level is the capacity minus the tokens.
 *
 * What it guarantees: the level never exceeds `limit`, so over any span of `T` ms at most
 * `limit + limit · T / windowMs` units are admitted; as with the token bucket, not "at most
 * `limit` per `windowMs`" (an empty bucket takes `limit` at once and leaks room for more).
 */

/** A key's bucket. */
export interface LeakyBucket {
  /** The level at `updatedAt`, fractional, in `[0, limit]`. */
  level: number;
  /** When `level` was last set. */
  updatedAt: number;
}

/** The level at `time` (never before its last update): leaked, floored at 0. */
export function levelAt(bucket: LeakyBucket, time: number, limits: Limits): number {
  const elapsed = time > bucket.updatedAt ? time - bucket.updatedAt : 0;
  const level = bucket.level - (elapsed * limits.limit) / limits.windowMs;
  return level > 0 ? level : 0;
}

/** The leaky bucket; see the module comment. */
export const leakyBucket: KeyedAlgorithm<LeakyBucket> = {
  fresh: (now) => ({ level: 0, updatedAt: now }),

  hit(bucket, now, cost, limits) {
    const time = now > bucket.updatedAt ? now : bucket.updatedAt;
    const current = levelAt(bucket, time, limits);
    if (current + cost <= limits.limit) {
      const level = current + cost;
      bucket.level = level;
      bucket.updatedAt = time;
      const remaining = Math.floor(limits.limit - level);
      return admitted(limits.limit - remaining, remaining);
    }
    let delay = time - now + Math.ceil(((current + cost - limits.limit) * limits.windowMs) / limits.limit);
    // The formula's rounding can fall a hair short: step on a whole millisecond (or, on a clock
    // whose doubles are coarser, one double) at a time until it fits.
    while (levelAt(bucket, now + delay, limits) + cost > limits.limit) delay = laterDelay(now, delay);
    return limitExceeded(delay);
  },

  isFresh: (bucket, now, limits) => levelAt(bucket, now, limits) <= 0,

  used: (bucket, now, limits) => limits.limit - Math.floor(limits.limit - levelAt(bucket, now, limits)),
};
