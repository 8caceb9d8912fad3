import { leakyBucket } from '../algorithms/leaky-bucket.js';
import { slidingWindow } from '../algorithms/sliding-window.js';
import { tokenBucket } from '../algorithms/token-bucket.js';
import { resolveMemoryLimiterOptions, type MemoryLimiterOptions } from '../options.js';
import type { MemoryRateLimiter } from '../rate-limiter.js';
import { FixedWindowLimiter } from './fixed-window-limiter.js';
import { KeyedLimiter } from './keyed-limiter.js';

/**
 * Creates the embedded rate limiter: decisions in memory, synchronously (`hitSync`) or as a
 * promise (`hit`), in bounded memory. The fixed window keeps only the current window's counts and
 * drops them whole when it ends; the other algorithms keep a state per key and a sweeper drops, a
 * few thousand keys per tick, the keys that have become equivalent to fresh ones.
 *
 * Use it for limits local to one process, or as the `insurance` of a Redis limiter; call `stop()`
 * (or run it under a supervisor with `limiterChild`) to cancel its timers. Throws `ConfigError`
 * on bad options.
 *
 * @example
 * ```ts
 * const login = createRateLimiter({ name: 'login', algorithm: 'sliding_window', limit: 5, windowMs: 60_000 });
 * const decision = login.hitSync(ip);
 * if (!decision.allowed) reply.status(429).header('retry-after', Math.ceil(decision.retryAfterMs / 1000));
 * ```
 */
export function createRateLimiter(options: MemoryLimiterOptions): MemoryRateLimiter {
  const resolved = resolveMemoryLimiterOptions(options);
  switch (resolved.algorithm) {
    case 'fixed_window':
      return new FixedWindowLimiter(resolved);
    case 'sliding_window':
      return new KeyedLimiter(slidingWindow, resolved);
    case 'token_bucket':
      return new KeyedLimiter(tokenBucket, resolved);
    case 'leaky_bucket':
      return new KeyedLimiter(leakyBucket, resolved);
  }
}
