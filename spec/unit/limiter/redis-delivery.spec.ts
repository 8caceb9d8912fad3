import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisRateLimiter, type RedisLike } from '../../../src/index.js';
import { ALGORITHMS, brief } from '../../support/limiter.js';
import { connectRedis, deleteKeys, randomPrefix, redisAvailable } from '../../support/limiter-redis.js';

/**
 * A client that delivers every script call twice, as ioredis does when a connection dies after
 * Redis ran a command but before its reply arrived (`autoResendUnfulfilledCommands`, on by
 * default): the first reply is lost, the caller gets the second.
 */
function deliveringTwice(redis: Redis): RedisLike {
  const twice =
    (send: (...args: [string, number, ...string[]]) => Promise<unknown>) =>
    async (script: string, numKeys: number, ...args: string[]): Promise<unknown> => {
      await send(script, numKeys, ...args);
      return send(script, numKeys, ...args);
    };
  return {
    evalsha: twice((...args) => redis.evalsha(...args)),
    eval: twice((...args) => redis.eval(...args)),
    del: (...keys) => redis.del(...keys),
  };
}

/** What Redis (REDIS_URL) counts when a hit reaches it more than once. */
describe.runIf(redisAvailable)('the Redis limiter when a hit reaches Redis twice', () => {
  let redis: Redis;
  let prefix = '';
  beforeAll(() => {
    redis = connectRedis();
  });
  beforeEach(() => {
    prefix = randomPrefix('delivery');
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
  });
  afterAll(() => {
    redis.disconnect();
  });

  it.each(ALGORITHMS)('%s: a hit resent after its reply was lost counts once, and both deliveries answer alike', async (algorithm) => {
    const options = { name: 'twice', algorithm, limit: 3, windowMs: 3_600_000, prefix };
    const resending = createRedisRateLimiter({ ...options, redis: deliveringTwice(redis) });
    const plain = createRedisRateLimiter({ ...options, redis });
    expect(brief(await resending.hit('k'))).toBe('allow 1/2');
    expect(brief(await resending.hit('k'))).toBe('allow 2/1');
    expect(brief(await plain.hit('k'))).toBe('allow 3/0');
    expect((await plain.hit('k')).allowed).toBe(false);
  });

  it.each(ALGORITHMS)('%s: a denied hit delivered twice stays denied and changes nothing', async (algorithm) => {
    const options = { name: 'denied', algorithm, limit: 2, windowMs: 3_600_000, prefix };
    const resending = createRedisRateLimiter({ ...options, redis: deliveringTwice(redis) });
    const plain = createRedisRateLimiter({ ...options, redis });
    expect(brief(await plain.hit('k', 2))).toBe('allow 2/0');
    expect((await resending.hit('k')).allowed).toBe(false);
    await plain.reset('k');
    expect(brief(await plain.hit('k'))).toBe('allow 1/1');
  });
});
