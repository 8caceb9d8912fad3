import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, createRedisRateLimiter, createTestClock, systemClock, type Clock } from '../../src/index.js';
import { nextUp } from '../../src/limiter/algorithms/float-time.js';
import { ALGORITHMS } from '../support/limiter.js';
import { connectRedis, deleteKeys, randomPrefix, redisAvailable } from '../support/limiter-redis.js';
import { boundaryScenarios, scenarios, type Scenario } from './limiter-model.js';

const RUNS = Number(process.env.LIMITER_PROPERTY_RUNS ?? 120);

/**
 * The same random sequences of (key, cost, time advance) against the embedded limiter and the
 * Redis limiter (the Redis of REDIS_URL, the test clock's time passed to the scripts), side by
 * side: every decision identical, to the last bit of retryAfterMs. Times and windows include
 * fractional and large values, so the Lua and JavaScript arithmetic must round alike.
 */
describe.runIf(redisAvailable)('memory and Redis decide alike', () => {
  let redis: Redis;
  const prefix = randomPrefix('twin');
  let run = 0;
  beforeAll(() => {
    redis = connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it.each(ALGORITHMS)('%s: identical decisions for the same hits at the same times', async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(scenarios({ minWindowMs: 1000, maxSteps: 30 }), async (scenario) => {
        const clock = createTestClock(scenario.start);
        const options = { name: `run${(run += 1)}`, algorithm, limit: scenario.limit, windowMs: scenario.windowMs, clock };
        const memory = createRateLimiter(options);
        const shared = createRedisRateLimiter({ ...options, redis, prefix });
        try {
          for (const { key, cost, advance } of scenario.steps) {
            clock.advance(advance);
            const expected = memory.hitSync(`k${key}`, cost);
            expect(await shared.hit(`k${key}`, cost), `at ${clock.now()}`).toEqual(expected);
          }
        } finally {
          memory.stop();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it.each(ALGORITHMS)(
    '%s: identical decisions on the window boundaries of fractional windows at Redis-clock magnitudes (now ≈ 1.7e12 ms)',
    async (algorithm) => {
      await fc.assert(
        fc.asyncProperty(boundaryScenarios({ minWindowMs: 1000 }), async (scenario: Scenario) => {
          const clock = createTestClock(scenario.start);
          const options = { name: `edge${(run += 1)}`, algorithm, limit: scenario.limit, windowMs: scenario.windowMs, clock };
          const memory = createRateLimiter(options);
          const shared = createRedisRateLimiter({ ...options, redis, prefix });
          try {
            for (const { key, cost, advance } of scenario.steps) {
              clock.advance(advance);
              const expected = memory.hitSync(`k${key}`, cost);
              expect(await shared.hit(`k${key}`, cost), `at ${clock.now()} (windowMs ${scenario.windowMs})`).toEqual(expected);
            }
          } finally {
            memory.stop();
          }
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    },
  );

  it.each(ALGORITHMS)('%s: identical decisions at clock readings where doubles are coarser than a millisecond (2^53 to 2^90 ms)', async (algorithm) => {
    const coarse = fc.tuple(scenarios({ minWindowMs: 1000, maxSteps: 20 }), fc.constantFrom(2 ** 53, 1e18, 2 ** 75, 2 ** 90));
    await fc.assert(
      fc.asyncProperty(coarse, async ([scenario, start]) => {
        // The clock's reading is set by hand; its timers are real ones (none fires within a run):
        // a test clock would run the sweeper once a minute across jumps of 2^40 ms.
        let now = start;
        const clock: Clock = { now: () => now, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
        const ulp = nextUp(start) - start;
        const options = { name: `coarse${(run += 1)}`, algorithm, limit: scenario.limit, windowMs: scenario.windowMs, clock };
        const memory = createRateLimiter(options);
        const shared = createRedisRateLimiter({ ...options, redis, prefix });
        try {
          for (const { key, cost, advance } of scenario.steps) {
            now += (advance * ulp) / 4;
            const expected = memory.hitSync(`k${key}`, cost);
            expect(await shared.hit(`k${key}`, cost), `at ${now}`).toEqual(expected);
          }
        } finally {
          memory.stop();
        }
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });

  it('sliding_window with logs longer than the 16 entries the script reads at a time', async () => {
    await fc.assert(
      fc.asyncProperty(scenarios({ minWindowMs: 1000, minSteps: 40, maxSteps: 120, maxLimit: 60 }), async (scenario) => {
        const clock = createTestClock(scenario.start);
        const options = { name: `long${(run += 1)}`, algorithm: 'sliding_window' as const, limit: scenario.limit + 20, windowMs: scenario.windowMs * 4, clock };
        const memory = createRateLimiter(options);
        const shared = createRedisRateLimiter({ ...options, redis, prefix });
        try {
          for (const { key, cost, advance } of scenario.steps) {
            clock.advance(advance / 4);
            const expected = memory.hitSync(`k${key % 2}`, cost);
            expect(await shared.hit(`k${key % 2}`, cost), `at ${clock.now()}`).toEqual(expected);
          }
        } finally {
          memory.stop();
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
