import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/index.js';
import { delayUntil, laterDelay, nextUp } from '../../../src/limiter/algorithms/float-time.js';
import type { KeyedAlgorithm } from '../../../src/limiter/algorithms/keyed-algorithm.js';
import { leakyBucket, levelAt } from '../../../src/limiter/algorithms/leaky-bucket.js';
import type { Limits } from '../../../src/limiter/algorithms/limits.js';
import { slidingWindow, type SlidingLog } from '../../../src/limiter/algorithms/sliding-window.js';
import { tokenBucket, tokensAt } from '../../../src/limiter/algorithms/token-bucket.js';
import { brief } from '../../support/limiter.js';

// The algorithm modules driven directly: time is the `now` each call is given, so a clock that
// steps back (as Redis's wall clock can) is a smaller `now`, and the state is there to read.

const KEYED: ReadonlyArray<readonly [string, KeyedAlgorithm<object>]> = [
  ['sliding_window', slidingWindow],
  ['token_bucket', tokenBucket],
  ['leaky_bucket', leakyBucket],
];
const BUCKETS = KEYED.slice(1);

/** Runs `hits` (`[now, cost]`) on a fresh state of `algorithm` and returns the state and the decisions, at a glance. */
function run<State>(algorithm: KeyedAlgorithm<State>, limits: Limits, hits: ReadonlyArray<readonly [number, number]>) {
  const state = algorithm.fresh(hits[0]![0], limits);
  const decisions = hits.map(([now, cost]) => brief(algorithm.hit(state, now, cost, limits)));
  return { state, decisions };
}

/** `count` hits of cost 1 at `from`, `from + 1`, … */
const hitsFrom = (from: number, count: number): Array<[number, number]> => Array.from({ length: count }, (_, i) => [from + i, 1]);

describe('nextUp', () => {
  it('carries into the high word when the low 32 bits of a positive double are all ones', () => {
    expect(nextUp(1 + (2 ** 32 - 1) * Number.EPSILON)).toBe(1 + 2 ** 32 * Number.EPSILON);
    expect(nextUp(2 ** 32 - 1 + (2 ** 32 - 1) * 2 ** -20)).toBe(2 ** 32 - 1 + 2 ** 32 * 2 ** -20);
  });
});

describe('delayUntil', () => {
  it('is +0, never −0, when the target has been reached', () => {
    expect(delayUntil(0, -0)).toBe(0);
    expect(delayUntil(-0, -0)).toBe(0);
    expect(delayUntil(5, 5)).toBe(0);
  });
});

describe('laterDelay', () => {
  it('steps a whole millisecond where doubles near now + delay are finer than that', () => {
    expect(laterDelay(0, 5)).toBe(6);
    expect(laterDelay(1000, 5)).toBe(6);
    expect(laterDelay(1.7e12, 0.5)).toBe(1.5);
  });

  it('steps one double of the reading where doubles are coarser than a millisecond', () => {
    // At 2^90 ms doubles are 2^38 ms apart.
    expect(laterDelay(2 ** 90, 0)).toBe(2 ** 38);
    expect(laterDelay(2 ** 90, 2 ** 38)).toBe(2 ** 39);
  });
});

describe('token bucket on a clock that stepped back', () => {
  const limits: Limits = { limit: 2, windowMs: 1000 };

  it('reads an earlier now as the last update: admits from the tokens then, and keeps the later update time', () => {
    const { state, decisions } = run(tokenBucket, limits, [
      [1000, 1],
      [500, 1],
      [1000, 1],
    ]);
    // Had the second hit moved the update back to 500, the third would find 500 ms of refill.
    expect(decisions).toEqual(['allow 1/1', 'allow 2/0', 'deny 500']);
    expect(state).toEqual({ tokens: 0, updatedAt: 1000 });
  });

  it('makes a denied hit from an earlier now wait from the last update', () => {
    const { decisions } = run(tokenBucket, limits, [
      [1000, 2],
      [500, 1],
    ]);
    expect(decisions).toEqual(['allow 2/0', 'deny 1000']);
  });

  it('counts and refills nothing for the span before the last update', () => {
    const bucket = { tokens: 1, updatedAt: 1000 };
    expect(tokensAt(bucket, 500, limits)).toBe(1);
    expect(tokenBucket.used(bucket, 500, limits)).toBe(1);
    expect(tokenBucket.isFresh({ tokens: 2, updatedAt: 1000 }, 500, limits)).toBe(true);
  });
});

describe('leaky bucket on a clock that stepped back', () => {
  const limits: Limits = { limit: 2, windowMs: 1000 };

  it('reads an earlier now as the last update: admits from the level then, and keeps the later update time', () => {
    const { state, decisions } = run(leakyBucket, limits, [
      [1000, 1],
      [500, 1],
      [1000, 1],
    ]);
    expect(decisions).toEqual(['allow 1/1', 'allow 2/0', 'deny 500']);
    expect(state).toEqual({ level: 2, updatedAt: 1000 });
  });

  it('makes a denied hit from an earlier now wait from the last update', () => {
    const { decisions } = run(leakyBucket, limits, [
      [1000, 2],
      [500, 1],
    ]);
    expect(decisions).toEqual(['allow 2/0', 'deny 1000']);
  });

  it('counts and leaks nothing for the span before the last update', () => {
    const bucket = { level: 1, updatedAt: 1000 };
    expect(levelAt(bucket, 500, limits)).toBe(1);
    expect(leakyBucket.used(bucket, 500, limits)).toBe(1);
  });
});

describe('the buckets count what a hit would count', () => {
  it.each(BUCKETS)('%s: a new key counts 0, a full one limit, a partly refilled one the whole units used', (_, algorithm) => {
    const limits: Limits = { limit: 4, windowMs: 1000 };
    const state = algorithm.fresh(0, limits);
    expect(algorithm.used(state, 0, limits)).toBe(0);
    expect(brief(algorithm.hit(state, 0, 4, limits))).toBe('allow 4/0');
    expect(algorithm.used(state, 0, limits)).toBe(4);
    // 1.5 units back after 375 ms: 2.5 used, counted as whole units the way a decision counts them.
    expect(algorithm.used(state, 375, limits)).toBe(3);
    expect(algorithm.used(state, 1000, limits)).toBe(0);
  });
});

describe('sliding window on a clock that stepped back', () => {
  const limits: Limits = { limit: 2, windowMs: 1000 };

  it('logs a hit from an earlier now at the newest logged time, so it counts, and keeps the key, as long as that one', () => {
    const { state, decisions } = run(slidingWindow, limits, [
      [1000, 1],
      [500, 1],
    ]);
    expect(decisions).toEqual(['allow 1/1', 'allow 2/0']);
    expect(state.entries.slice(state.head)).toEqual([1000, 1, 1000, 1]);
    // Logged at 500, the second hit would stop counting at 1500 and make the key look fresh then.
    expect(slidingWindow.used(state, 1500, limits)).toBe(2);
    expect(slidingWindow.isFresh(state, 1500, limits)).toBe(false);
    expect(slidingWindow.isFresh(state, 2000, limits)).toBe(true);
    expect([1500, 1999, 2000].map((now) => brief(slidingWindow.hit(state, now, 1, limits)))).toEqual(['deny 500', 'deny 1', 'allow 1/1']);
  });

  it('reads the log at now when now is the newest logged time or later', () => {
    const { decisions } = run(slidingWindow, limits, [
      [1000, 1],
      [1000, 1],
      [2000, 1],
    ]);
    expect(decisions).toEqual(['allow 1/1', 'allow 2/0', 'allow 1/1']);
  });
});

describe('sliding window used', () => {
  const limits: Limits = { limit: 3, windowMs: 1000 };
  const log = (): SlidingLog => run(slidingWindow, limits, [
    [0, 1],
    [500, 2],
  ]).state;

  it('counts a logged hit while now − time < windowMs, and not from exactly windowMs on', () => {
    const state = log();
    expect([0, 600, 999, 1000, 1499, 1500, 5000].map((now) => slidingWindow.used(state, now, limits))).toEqual([3, 3, 3, 2, 2, 0, 0]);
  });

  it('a log that never logged anything is fresh and counts nothing', () => {
    const state = slidingWindow.fresh(0, limits);
    expect(slidingWindow.isFresh(state, 0, limits)).toBe(true);
    expect(slidingWindow.used(state, 0, limits)).toBe(0);
  });
});

describe("sliding window log's array", () => {
  it('starts afresh at the next admitted hit once every logged hit has expired', () => {
    const { state, decisions } = run(slidingWindow, { limit: 1, windowMs: 10 }, [
      [0, 1],
      [10, 1],
      [20, 1],
    ]);
    expect(decisions).toEqual(['allow 1/0', 'allow 1/0', 'allow 1/0']);
    expect(state).toEqual({ entries: [20, 1], head: 0, used: 1 });
  });

  it('keeps expired pairs before head while fewer than 64 numbers lie there', () => {
    const { state } = run(slidingWindow, { limit: 2, windowMs: 10 }, [
      [0, 1],
      [5, 1],
      [10, 1],
    ]);
    expect(state).toEqual({ entries: [0, 1, 5, 1, 10, 1], head: 2, used: 2 });
  });

  const limits: Limits = { limit: 100, windowMs: 100 };

  it('compacts once 64 expired numbers lie before head and they are half the array', () => {
    // 32 hits that expire at 131, 32 that still count then: head 64 of 128.
    const { state, decisions } = run(slidingWindow, limits, [...hitsFrom(0, 32), ...hitsFrom(50, 32), [131, 1]]);
    expect(decisions.at(-1)).toBe('allow 33/67');
    expect(state.head).toBe(0);
    expect(state.entries).toEqual([...hitsFrom(50, 32).flat(), 131, 1]);
    expect(slidingWindow.used(state, 131, limits)).toBe(33);
  });

  it('does not compact while the expired numbers are less than half the array', () => {
    // 32 hits that expire at 131, 40 that still count then: head 64 of 144.
    const { state, decisions } = run(slidingWindow, limits, [...hitsFrom(0, 32), ...hitsFrom(50, 40), [131, 1]]);
    expect(decisions.at(-1)).toBe('allow 41/59');
    expect(state.head).toBe(64);
    expect(state.entries).toHaveLength(146);
    expect(state.entries.slice(64)).toEqual([...hitsFrom(50, 40).flat(), 131, 1]);
  });

  it("stays bounded by the key's limit however long the key keeps hitting", () => {
    // One hit always still counting, so the log never empties: only compaction bounds it.
    const state = slidingWindow.fresh(0, { limit: 2, windowMs: 10 });
    for (let now = 0; now < 5000; now += 5) slidingWindow.hit(state, now, 1, { limit: 2, windowMs: 10 });
    expect(state.entries.length).toBeLessThanOrEqual(2 * 2 + 64);
    expect(state.used).toBe(2);
  });
});

describe.each(KEYED)('%s: used and the next decision', (_, algorithm) => {
  // A window of limit · 2^k ms refills (or leaks) 2^−k units per ms, exact in doubles: the
  // invariant then holds to the unit, with no rounding to allow for.
  it('a hit of cost c is admitted exactly when used + c ≤ limit, and then counts used + c', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 6 })), { minLength: 1, maxLength: 40 }),
        (limit, shift, steps) => {
          const limits: Limits = { limit, windowMs: limit * 2 ** shift };
          const state = algorithm.fresh(0, limits);
          let now = 0;
          for (const [advance, wanted] of steps) {
            now += advance;
            const cost = Math.min(wanted, limit);
            const used = algorithm.used(state, now, limits);
            const decision: Decision = algorithm.hit(state, now, cost, limits);
            if (used + cost <= limit) expect(decision).toEqual({ allowed: true, count: used + cost, remaining: limit - used - cost });
            else expect(decision.allowed, `used ${used}, cost ${cost}`).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
