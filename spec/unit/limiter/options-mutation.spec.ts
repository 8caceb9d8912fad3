import { describe, expect, it } from 'vitest';
import { createRateLimiter, createRedisRateLimiter, type RedisLike } from '../../../src/index.js';
import { positive, windowLength } from '../../../src/limiter/options.js';
import { resolveRedisLimiterOptions } from '../../../src/limiter/redis/redis-options.js';
import { configErrorOf } from '../../support/thrown.js';

const valid = { name: 'api', limit: 10, windowMs: 1000 };
const fakeRedis: RedisLike = {
  evalsha: () => Promise.resolve([1, 1, 0]),
  eval: () => Promise.resolve([1, 1, 0]),
  del: () => Promise.resolve(1),
};

/** The message and code of the ConfigError `run` throws, and the option it names. */
function refusal(run: () => unknown): { option: string; code: string; message: string } {
  const error = configErrorOf(run);
  return { option: error.option, code: error.code, message: error.message };
}

describe('shared limiter options: messages', () => {
  it('a missing limit asks for an integer >= 1', () => {
    expect(refusal(() => createRateLimiter({ ...valid, limit: undefined as unknown as number }))).toEqual({
      option: 'limit',
      code: 'ERR_CONFIG',
      message: 'Invalid option limit: expected an integer >= 1, got undefined',
    });
  });

  it.each([0, 0.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY, '1000'])('a window length of %s is refused with its range', (value) => {
    expect(refusal(() => windowLength('windowMs', value)).message).toMatch(/^Invalid option windowMs: expected a number of ms in \[1, 2\^53 - 1\], got /);
  });

  it('window lengths at both ends of the range are taken as they are', () => {
    expect(windowLength('windowMs', 1)).toBe(1);
    expect(windowLength('windowMs', Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(windowLength('windowMs', 1.5)).toBe(1.5);
  });

  it('a positive number is required, and zero or nothing is refused as not > 0', () => {
    expect(refusal(() => positive('timeoutMs', undefined))).toEqual({
      option: 'timeoutMs',
      code: 'ERR_CONFIG',
      message: 'Invalid option timeoutMs: expected a finite number > 0, got undefined',
    });
    expect(refusal(() => positive('timeoutMs', 0)).message).toBe('Invalid option timeoutMs: expected a finite number > 0, got 0');
    expect(positive('timeoutMs', 0.25)).toBe(0.25);
  });
});

describe('live reconfiguration: messages', () => {
  const limiter = (): ReturnType<typeof createRateLimiter> => createRateLimiter(valid);

  it('a patch that is not an object is refused as the patch', () => {
    const memory = limiter();
    const error = refusal(() => memory.reconfigure(5 as never));
    expect(error.option).toBe('patch');
    expect(error.message).toMatch(/^Invalid option patch: /);
    memory.stop();
  });

  it('an option that cannot change live is refused with the list of those that can', () => {
    const memory = limiter();
    expect(refusal(() => memory.reconfigure({ name: 'other' } as never))).toEqual({
      option: 'name',
      code: 'ERR_CONFIG',
      message: "Invalid option name: expected one of limit, windowMs, telemetryKeys (cannot change live), got \"other\"",
    });
    memory.stop();
  });

  it('a telemetryKeys that is not a boolean is refused as telemetryKeys', () => {
    const memory = limiter();
    const error = refusal(() => memory.reconfigure({ telemetryKeys: 'yes' as never }));
    expect(error.option).toBe('telemetryKeys');
    expect(error.message).toMatch(/^Invalid option telemetryKeys: /);
    memory.stop();
  });
});

describe('Redis limiter options: messages', () => {
  const redisOptions = { ...valid, redis: fakeRedis };

  it('takes a timeout of exactly the longest timer, 2^31 - 1 ms', () => {
    expect(resolveRedisLimiterOptions({ ...redisOptions, timeoutMs: 2 ** 31 - 1 }).timeoutMs).toBe(2 ** 31 - 1);
  });

  it('refuses a timeout longer than the longest timer, naming the range', () => {
    expect(refusal(() => createRedisRateLimiter({ ...redisOptions, timeoutMs: 2 ** 31 }))).toEqual({
      option: 'timeoutMs',
      code: 'ERR_CONFIG',
      message: 'Invalid option timeoutMs: expected a finite number in (0, 2147483647], got 2147483648',
    });
  });

  it('refuses a name with a lone surrogate', () => {
    expect(refusal(() => createRedisRateLimiter({ ...redisOptions, name: 'a\uD800' })).message).toMatch(
      /^Invalid option name: expected well-formed Unicode \(no lone surrogate\), got /,
    );
  });

  it('refuses a client without one of its methods, naming the method', () => {
    expect(refusal(() => createRedisRateLimiter({ ...redisOptions, redis: { ...fakeRedis, del: 1 } as never }))).toEqual({
      option: 'redis.del',
      code: 'ERR_CONFIG',
      message: 'Invalid option redis.del: expected a function (an ioredis client or a RedisLike), got 1',
    });
  });

  it('refuses a prefix with a colon, saying what a prefix may hold', () => {
    expect(refusal(() => createRedisRateLimiter({ ...redisOptions, prefix: 'a:b' }))).toEqual({
      option: 'prefix',
      code: 'ERR_CONFIG',
      message: "Invalid option prefix: expected a string without ':', with braces only as a Redis Cluster hash tag ('{…}'), got \"a:b\"",
    });
  });

  it.each([null, 5, {}])('refuses an insurance of %s as not a memory limiter', (insurance) => {
    const error = refusal(() => createRedisRateLimiter({ ...redisOptions, insurance: insurance as never }));
    expect(error.option).toBe('insurance');
    expect(error.message).toMatch(/^Invalid option insurance: expected a memory limiter \(createRateLimiter\), got /);
  });
});
