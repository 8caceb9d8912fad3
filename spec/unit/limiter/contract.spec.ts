import type { Cluster, Redis } from 'ioredis';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as overseer from '../../../src/index.js';
import {
  createRateLimiter,
  createRedisRateLimiter,
  createTestClock,
  type Algorithm,
  type Decision,
  type LimiterOptions,
  type MemoryRateLimiter,
  type RateLimiter,
  type RedisLike,
} from '../../../src/index.js';

// The "Rate limiter" section of ../shared/API.md, read through the package entry only.

describe('the rate limiter contract', () => {
  it('exports createRateLimiter and createRedisRateLimiter, plus limiterChild and the unavailable error', () => {
    for (const name of ['createRateLimiter', 'createRedisRateLimiter', 'limiterChild', 'isLimiterUnavailableError']) {
      expect(typeof (overseer as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(/^class\b/.test(Function.prototype.toString.call(overseer.LimiterUnavailableError))).toBe(true);
    expect(overseer.TelemetryEvents.limiterHit).toBe('limiter.hit');
  });

  it('has the contract’s types, with reason added to a denial', () => {
    expectTypeOf<Algorithm>().toEqualTypeOf<'fixed_window' | 'sliding_window' | 'token_bucket' | 'leaky_bucket'>();
    expectTypeOf<Extract<Decision, { allowed: true }>>().toEqualTypeOf<{ allowed: true; count: number; remaining: number }>();
    expectTypeOf<Extract<Decision, { allowed: false }>>().toMatchTypeOf<{ allowed: false; retryAfterMs: number }>();
    expectTypeOf<RateLimiter['hit']>().toEqualTypeOf<(key: string, cost?: number) => Promise<Decision>>();
    expectTypeOf<RateLimiter['reset']>().toEqualTypeOf<(key: string) => Promise<void>>();
    expectTypeOf<MemoryRateLimiter['hitSync']>().toEqualTypeOf<(key: string, cost?: number) => Decision>();
    expectTypeOf<MemoryRateLimiter>().toHaveProperty('size').toEqualTypeOf<number>();
    expectTypeOf(createRateLimiter).parameter(0).toMatchTypeOf<LimiterOptions>();
    expectTypeOf(createRateLimiter).returns.toMatchTypeOf<MemoryRateLimiter>();
    expectTypeOf(createRedisRateLimiter).returns.toMatchTypeOf<RateLimiter>();
    expectTypeOf<LimiterOptions>().toMatchTypeOf<{ name: string; algorithm?: Algorithm; limit: number; windowMs: number }>();
  });

  it('takes an ioredis client (or cluster) as it is', () => {
    expectTypeOf<Redis>().toMatchTypeOf<RedisLike>();
    expectTypeOf<Cluster>().toMatchTypeOf<RedisLike>();
  });

  it('builds both backends from the same LimiterOptions', async () => {
    const options: LimiterOptions = { name: 'contract', limit: 1, windowMs: 1000, clock: createTestClock() };
    const memory: MemoryRateLimiter = createRateLimiter(options);
    expect(memory.name).toBe('contract');
    expect(memory.hitSync('k')).toEqual({ allowed: true, count: 1, remaining: 0 });
    expect(await memory.hit('k')).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    // Answers every hit as the script would admit a first one: `[count, Redis time]`.
    const redis: RedisLike = { evalsha: () => Promise.resolve([1, 0]), eval: () => Promise.resolve([1, 0]), del: () => Promise.resolve(1) };
    const shared: RateLimiter = createRedisRateLimiter({ ...options, redis, prefix: 'contract' });
    expect(await shared.hit('k')).toEqual({ allowed: true, count: 1, remaining: 0 });
  });
});
