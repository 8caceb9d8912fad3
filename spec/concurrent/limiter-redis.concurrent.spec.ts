import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiter, type Decision } from '../../src/index.js';
import { ALGORITHMS } from '../support/limiter.js';
import { connectRedis, deleteKeys, randomPrefix, redisAvailable } from '../support/limiter-redis.js';

const HITS = 10_000;
const LIMIT = 1000;
/** Ten years: neither a window boundary nor a refill or leak of one unit happens during the spec. */
const WINDOW_MS = 10 * 365 * 24 * 3_600_000;

/**
 * Two limiter instances (two connections, as two processes of a service would have) on the Redis
 * of REDIS_URL, on Redis's own clock, fire 10,000 hits at one key all at once: the scripts are
 * atomic, so exactly `limit` are admitted, each count handed out once.
 */
describe.runIf(redisAvailable)('two Redis limiter instances, 10,000 concurrent hits on one key', () => {
  let first: Redis;
  let second: Redis;
  const prefix = randomPrefix('race');
  beforeAll(() => {
    first = connectRedis();
    second = connectRedis();
  });
  afterAll(async () => {
    await deleteKeys(first, prefix);
    first.disconnect();
    second.disconnect();
  });

  it.each(ALGORITHMS)('%s: exactly limit admitted', async (algorithm) => {
    const options = { name: algorithm, algorithm, limit: LIMIT, windowMs: WINDOW_MS, prefix, timeoutMs: 30_000 };
    const instances = [createRedisRateLimiter({ ...options, redis: first }), createRedisRateLimiter({ ...options, redis: second })];
    // allSettled: every hit has finished writing before the spec (and its clean-up) goes on.
    const settled = await Promise.allSettled(Array.from({ length: HITS }, (_, index) => instances[index % 2]!.hit('hot')));
    expect(settled.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    const decisions = settled.map((outcome) => (outcome as PromiseFulfilledResult<Decision>).value);
    const admitted = decisions.filter((decision) => decision.allowed);
    expect(admitted).toHaveLength(LIMIT);
    const counts = new Set(admitted.map((decision) => decision.allowed && decision.count));
    expect(counts.size).toBe(LIMIT);
    expect(decisions.filter((decision) => !decision.allowed).every((decision) => !decision.allowed && decision.reason === 'limit_exceeded')).toBe(true);
  });
});
