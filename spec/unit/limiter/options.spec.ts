import { describe, expect, it } from 'vitest';
import { createRateLimiter, createRedisRateLimiter, isConfigError, limiterChild, type RedisLike } from '../../../src/index.js';

const valid = { name: 'api', limit: 10, windowMs: 1000 };
const fakeRedis: RedisLike = {
  evalsha: () => Promise.resolve([1, 1, 0]),
  eval: () => Promise.resolve([1, 1, 0]),
  del: () => Promise.resolve(1),
};

/** The option a ConfigError names, or what was thrown instead. */
function rejectedOption(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return isConfigError(error) ? error.option : error;
  }
  return 'accepted';
}

describe('limiter options', () => {
  it.each([
    ['name', { ...valid, name: undefined }],
    ['name', { ...valid, name: '' }],
    ['name', { ...valid, name: 7 }],
    ['limit', { ...valid, limit: undefined }],
    ['limit', { ...valid, limit: 0 }],
    ['limit', { ...valid, limit: -1 }],
    ['limit', { ...valid, limit: 2.5 }],
    ['limit', { ...valid, limit: Number.NaN }],
    ['limit', { ...valid, limit: Number.POSITIVE_INFINITY }],
    ['limit', { ...valid, limit: '10' }],
    ['windowMs', { ...valid, windowMs: undefined }],
    ['windowMs', { ...valid, windowMs: 0 }],
    ['windowMs', { ...valid, windowMs: -1000 }],
    ['windowMs', { ...valid, windowMs: Number.NaN }],
    ['windowMs', { ...valid, windowMs: Number.POSITIVE_INFINITY }],
    ['algorithm', { ...valid, algorithm: 'gcra' }],
    ['clock', { ...valid, clock: { now: () => 0 } }],
    ['telemetry', { ...valid, telemetry: {} }],
    ['telemetryKeys', { ...valid, telemetryKeys: 'yes' }],
    ['sweepIntervalMs', { ...valid, sweepIntervalMs: 0 }],
    ['options', null],
  ])('createRateLimiter: a bad %s is a ConfigError naming it', (option, options) => {
    expect(rejectedOption(() => createRateLimiter(options as never))).toBe(option);
  });

  // Windows the arithmetic cannot carry: below 1 ms, `floor(now / windowMs)` leaves the safe
  // integers (MIN_VALUE makes it Infinity) while timers and retry delays count whole milliseconds;
  // above 2^53 − 1 ms, whole milliseconds are no longer doubles.
  const uncarried = [Number.MIN_VALUE, 1e-300, 1e-6, 0.5, 2 ** 53, 1e18, Number.MAX_VALUE];

  it.each(uncarried)('windowMs %s, which the window arithmetic cannot carry, is a ConfigError for every backend and algorithm', (windowMs) => {
    for (const algorithm of ['fixed_window', 'sliding_window', 'token_bucket', 'leaky_bucket'] as const) {
      const options = { ...valid, algorithm, windowMs };
      expect(rejectedOption(() => createRateLimiter(options))).toBe('windowMs');
      expect(rejectedOption(() => createRedisRateLimiter({ ...options, redis: fakeRedis }))).toBe('windowMs');
      expect(rejectedOption(() => limiterChild(options))).toBe('windowMs');
      expect(rejectedOption(() => createRateLimiter({ ...valid, algorithm }).reconfigure({ windowMs }))).toBe('windowMs');
      expect(rejectedOption(() => createRedisRateLimiter({ ...valid, algorithm, redis: fakeRedis }).reconfigure({ windowMs }))).toBe('windowMs');
    }
  });

  it.each([1, 1000 / 3, 2 ** 53 - 1])('windowMs %s is accepted: from 1 ms to 2^53 − 1 ms, fractions included', (windowMs) => {
    expect(rejectedOption(() => createRateLimiter({ ...valid, windowMs }))).toBe('accepted');
    expect(rejectedOption(() => createRedisRateLimiter({ ...valid, windowMs, redis: fakeRedis }))).toBe('accepted');
  });

  it.each([Number.MIN_VALUE, 0.5])('sweepIntervalMs %s, a sweep pass every timer tick, is a ConfigError', (sweepIntervalMs) => {
    expect(rejectedOption(() => createRateLimiter({ ...valid, algorithm: 'token_bucket', sweepIntervalMs }))).toBe('sweepIntervalMs');
  });

  it('says what it expected and what it got', () => {
    expect(() => createRateLimiter({ ...valid, limit: 0 })).toThrow('Invalid option limit: expected an integer >= 1, got 0');
  });

  it.each([
    ['redis', {}],
    ['redis', { redis: 'redis://localhost' }],
    ['redis.evalsha', { redis: { eval: fakeRedis.eval, del: fakeRedis.del } }],
    ['prefix', { redis: fakeRedis, prefix: 'a:b' }],
    ['prefix', { redis: fakeRedis, prefix: '' }],
    ['timeoutMs', { redis: fakeRedis, timeoutMs: 0 }],
    ['timeoutMs', { redis: fakeRedis, timeoutMs: 2 ** 31 }],
    ['insurance', { redis: fakeRedis, insurance: {} }],
    ['name', { redis: fakeRedis, name: 'lone \uD800' }],
    ['limit', { redis: fakeRedis, limit: 0 }],
  ])('createRedisRateLimiter: a bad %s is a ConfigError naming it', (option, extra) => {
    expect(rejectedOption(() => createRedisRateLimiter({ ...valid, ...extra } as never))).toBe(option);
  });

  it('takes every algorithm, and defaults to the fixed window', () => {
    for (const algorithm of ['fixed_window', 'sliding_window', 'token_bucket', 'leaky_bucket'] as const) {
      expect(rejectedOption(() => createRateLimiter({ ...valid, algorithm }))).toBe('accepted');
      expect(rejectedOption(() => createRedisRateLimiter({ ...valid, algorithm, redis: fakeRedis }))).toBe('accepted');
    }
  });
});
