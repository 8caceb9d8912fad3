import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, createRedisRateLimiter, createTestClock, systemClock, type Clock, type Decision, type RedisLike } from '../../../src/index.js';
import { fixedWindowEnd } from '../../../src/limiter/algorithms/fixed-window.js';
import { nextUp } from '../../../src/limiter/algorithms/float-time.js';

/** The largest double below `x`. */
const nextDown = (x: number): number => -nextUp(-x);

/** Hammer's definition, written out here rather than imported: the window `t` falls in. */
const windowAt = (t: number, windowMs: number): number => Math.floor(t / windowMs);

/** The first instant of the window after `window`, found by walking the doubles around `(window + 1) · windowMs`. */
function firstInstantAfter(window: number, windowMs: number): number {
  let t = (window + 1) * windowMs;
  while (windowAt(t, windowMs) > window) t = nextDown(t);
  while (windowAt(t, windowMs) <= window) t = nextUp(t);
  return t;
}

/** Fractional windows whose products `k · windowMs` round at Redis-clock magnitudes (now ≈ 1.7e12 ms). */
const FRACTIONAL = [1000 / 3, 100 / 3, 200 / 3, 10_000 / 3, 1000 / 7, 1237.3, 299.99];
const REDIS_NOW = 1.7e12;

describe('fixed window boundaries', () => {
  it('a window ends at the first instant floor(t / windowMs) puts in a later window, not an ulp later', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...FRACTIONAL), fc.double({ min: 1, max: 5000, noNaN: true })), fc.nat(1_000_000), (windowMs, offset) => {
        const window = windowAt(REDIS_NOW, windowMs) + offset;
        const end = fixedWindowEnd(window, { limit: 1, windowMs });
        expect(windowAt(end, windowMs)).toBeGreaterThan(window);
        expect(windowAt(nextDown(end), windowMs), `windowMs ${windowMs}, window ${window}, end ${end}`).toBeLessThanOrEqual(window);
      }),
      { numRuns: 2000 },
    );
  });

  /** A limit-1 memory limiter whose key 'k' was admitted at the last instant of `window`, and the first instant of the next. */
  const atTheEdge = (window: number, windowMs: number) => {
    const start = firstInstantAfter(window, windowMs);
    const clock = createTestClock(nextDown(start));
    const limiter = createRateLimiter({ name: 'edge', limit: 1, windowMs, clock });
    const last = limiter.hitSync('k');
    return { start, clock, limiter, last };
  };

  it.each(FRACTIONAL)('the memory fixed window starts counting afresh at the first instant of every window (windowMs %s, now ≈ 1.7e12)', (windowMs) => {
    const first = windowAt(REDIS_NOW, windowMs);
    for (let window = first; window < first + 60; window += 1) {
      const { start, clock, limiter, last } = atTheEdge(window, windowMs);
      clock.advance(start - clock.now());
      expect(clock.now()).toBe(start);
      const next: Decision = limiter.hitSync('k');
      expect([last.allowed, next.allowed], `window ${window} ends at ${start}`).toEqual([true, true]);
      limiter.stop();
    }
  });

  it.each(FRACTIONAL)('a denial in the fixed window waits exactly until the first instant of the next window (windowMs %s, now ≈ 1.7e12)', (windowMs) => {
    const first = windowAt(REDIS_NOW, windowMs);
    for (let window = first; window < first + 60; window += 1) {
      const { start, limiter } = atTheEdge(window, windowMs);
      expect(limiter.hitSync('k'), `window ${window} ends at ${start}`).toMatchObject({ allowed: false, retryAfterMs: start - nextDown(start) });
      limiter.stop();
    }
  });
});

describe('bucket retry delays', () => {
  // At a clock reading of 2^90 ms doubles are 2^38 ms apart: "a whole millisecond more" does not
  // move the reading, so a search that steps the delay by 1 ms until the bucket fits walks 2^37
  // steps. The delay must still be found at once, and be exact.
  it.each([
    ['token_bucket', 1, 1000, [1, 1]],
    ['leaky_bucket', 1, 1000, [1, 1]],
    ['token_bucket', 3, 2 ** 52 + 17, [3, 2]],
    ['leaky_bucket', 6, 2 ** 52 + 17, [6, 2]],
  ] as const)('%s: a denial settles at once, and exactly, where doubles are coarser than a millisecond (limit %s, windowMs %s)', (algorithm, limit, windowMs, costs) => {
    const at = 2 ** 90;
    const run = (count: number) => {
      const clock = createTestClock(at);
      const limiter = createRateLimiter({ name: 'coarse', algorithm, limit, windowMs, clock });
      const decisions = costs.slice(0, count).map((cost) => limiter.hitSync('k', cost));
      return { clock, limiter, decisions };
    };
    const { decisions } = run(costs.length);
    const denied = decisions.at(-1)!;
    expect(denied).toMatchObject({ allowed: false, reason: 'limit_exceeded' });
    const { retryAfterMs } = denied as Extract<Decision, { allowed: false }>;
    expect(Number.isFinite(retryAfterMs)).toBe(true);
    const again = run(costs.length - 1);
    // Stopped, so that the sweeper does not tick every minute of the time the clock jumps.
    again.limiter.stop();
    again.clock.advance(retryAfterMs);
    expect(again.limiter.hitSync('k', costs.at(-1)!).allowed).toBe(true);
  });
});

describe('timers on a clock whose doubles are coarser than their delays', () => {
  // At 2^90 ms, now + 60_000 === now: a timer armed "intervalMs from now" is due at once.
  const at = 2 ** 90;

  it.each(['sliding_window', 'token_bucket', 'leaky_bucket'] as const)('%s: the sweeper lets the clock move on instead of re-arming for the same instant', (algorithm) => {
    const clock = createTestClock(at);
    const limiter = createRateLimiter({ name: 'coarse', algorithm, limit: 2, windowMs: 2 ** 52, clock });
    limiter.hitSync('k');
    clock.advance(2 ** 40);
    expect(clock.now()).toBe(at + 2 ** 40);
    expect(clock.pendingTimers()).toBeLessThanOrEqual(1);
    limiter.stop();
  });

  it('a Redis hit waits timeoutMs for its answer instead of timing out at once', async () => {
    const clock: Clock = { now: () => at, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
    const redis: RedisLike = {
      evalsha: () => new Promise((resolve) => setTimeout(() => resolve([1, 0]), 20)),
      eval: () => Promise.resolve([1, 0]),
      del: () => Promise.resolve(1),
    };
    const limiter = createRedisRateLimiter({ name: 'coarse', limit: 2, windowMs: 1000, redis, clock, timeoutMs: 1000 });
    await expect(limiter.hit('k')).resolves.toEqual({ allowed: true, count: 1, remaining: 1 });
  });
});
