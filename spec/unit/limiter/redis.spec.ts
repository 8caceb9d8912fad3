import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { redisBackend, type LimiterBackend } from '../../support/limiter.js';
import { connectRedis, deleteKeys, randomPrefix, redisAvailable } from '../../support/limiter-redis.js';
import { limiterSuite } from '../../support/limiter-suite.js';

/**
 * The limiter suite against the Redis backend, on the Redis of REDIS_URL (the machine's own, or
 * CI's), with the specs' test clock passed to the scripts. Each spec gets its own key prefix.
 */
describe.runIf(redisAvailable)('the Redis limiter', () => {
  let redis: Redis;
  let prefix = '';
  const backend: LimiterBackend = {
    name: 'redis',
    create: (options) => redisBackend(redis, prefix).create(options),
  };
  beforeAll(() => {
    redis = connectRedis();
  });
  beforeEach(() => {
    prefix = randomPrefix('suite');
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
  });
  afterAll(() => {
    redis.disconnect();
  });
  limiterSuite(backend);
});
