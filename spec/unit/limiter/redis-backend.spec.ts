import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisRateLimiter, createTestClock } from '../../../src/index.js';
import { ALGORITHMS, brief } from '../../support/limiter.js';
import { connectRedis, deleteKeys, keysUnder, randomPrefix, redisAvailable } from '../../support/limiter-redis.js';

/** What the Redis backend stores and how its keys expire, read back from the Redis of REDIS_URL. */
describe.runIf(redisAvailable)('the Redis limiter in Redis', () => {
  let redis: Redis;
  let prefix = '';
  beforeAll(() => {
    redis = connectRedis();
  });
  beforeEach(() => {
    prefix = randomPrefix('backend');
  });
  afterEach(async () => {
    await deleteKeys(redis, prefix);
  });
  afterAll(() => {
    redis.disconnect();
  });
  /** The keys holding limiter state (not the records of admitted hits, under `:r:`). */
  const stateKeys = async (): Promise<string[]> => (await keysUnder(redis, prefix)).filter((key) => !key.includes(':r:'));

  it('stores keys under <prefix>:<name length>:<name>:, raw or digested', async () => {
    const limiter = createRedisRateLimiter({ name: 'login', limit: 3, windowMs: 60_000, redis, prefix });
    await limiter.hit('alice');
    await limiter.hit('b'.repeat(300));
    const keys = (await stateKeys()).sort();
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(new RegExp(`^${prefix}:5:login:h:[A-Za-z0-9_-]{43}$`));
    expect(keys[1]).toBe(`${prefix}:5:login:k:alice`);
  });

  it('keeps a record of each admitted hit, in its key\'s Cluster slot, for timeoutMs + 1 ms at most', async () => {
    const limiter = createRedisRateLimiter({ name: 'login', limit: 3, windowMs: 60_000, redis, prefix, timeoutMs: 5000 });
    await limiter.hit('alice');
    await limiter.hit('{tenant}bob');
    expect((await limiter.hit('carol', 4)).allowed).toBe(false);
    const records = (await keysUnder(redis, prefix)).filter((key) => key.includes(':r:')).sort();
    expect(records).toHaveLength(2);
    expect(records[0]).toMatch(new RegExp(`^${prefix}:5:login:r:[A-Za-z0-9_-]+\\{${prefix}:5:login:k:alice\\}$`));
    expect(records[1]).toMatch(new RegExp(`^${prefix}:5:login:r:[A-Za-z0-9_-]+\\{tenant\\}$`));
    for (const record of records) {
      const ttl = await redis.pttl(record);
      expect(ttl, record).toBeGreaterThan(0);
      expect(ttl, record).toBeLessThanOrEqual(5001);
    }
  });

  it.each(ALGORITHMS)('%s: every key it writes expires by itself, no later than the state needs (Redis clock)', async (algorithm) => {
    const windowMs = 10_000;
    const limiter = createRedisRateLimiter({ name: 'ttl', algorithm, limit: 4, windowMs, redis, prefix });
    for (const [key, cost] of [['a', 1], ['b', 4], ['c', 2], ['c', 2]] as const) await limiter.hit(key, cost);
    const keys = await stateKeys();
    expect(keys).toHaveLength(3);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(windowMs + 1);
    }
    if (algorithm === 'token_bucket' || algorithm === 'leaky_bucket') {
      // One unit of four refills (leaks) in a quarter of the window.
      expect(await redis.pttl(`${prefix}:3:ttl:k:a`)).toBeLessThanOrEqual(windowMs / 4 + 1);
    }
  });

  it.each(ALGORITHMS)('%s: takes windows from 1 ms to 2^53 − 1 ms, expiring keys even so', async (algorithm) => {
    for (const windowMs of [1, Number.MAX_SAFE_INTEGER]) {
      const limiter = createRedisRateLimiter({ name: `w${windowMs}`, algorithm, limit: 2, windowMs, redis, prefix });
      expect(await limiter.hit('k')).toMatchObject({ allowed: true });
      if (windowMs < 1000) continue; // its key may already be gone
      const [key] = await keysUnder(redis, `${prefix}:${String(windowMs).length + 1}:w${windowMs}`);
      expect(await redis.pttl(key!)).toBeGreaterThan(0);
    }
  });

  it('keeps keys a window longer when the caller gives its own clock', async () => {
    const clock = createTestClock(500);
    const limiter = createRedisRateLimiter({ name: 'own', limit: 4, windowMs: 1000, redis, prefix, clock });
    await limiter.hit('a');
    const ttl = await redis.pttl(`${prefix}:3:own:k:a`);
    expect(ttl).toBeGreaterThan(1000);
    expect(ttl).toBeLessThanOrEqual(1500);
  });

  it('on Redis time, two instances sharing Redis enforce one limit', async () => {
    const other = connectRedis();
    try {
      const first = createRedisRateLimiter({ name: 'global', algorithm: 'sliding_window', limit: 3, windowMs: 60_000, redis, prefix });
      const second = createRedisRateLimiter({ name: 'global', algorithm: 'sliding_window', limit: 3, windowMs: 60_000, redis: other, prefix });
      const out = [brief(await first.hit('ip')), brief(await second.hit('ip')), brief(await first.hit('ip'))];
      expect(out).toEqual(['allow 1/2', 'allow 2/1', 'allow 3/0']);
      expect((await second.hit('ip')).allowed).toBe(false);
    } finally {
      other.disconnect();
    }
  });

  it('keeps prefixes apart', async () => {
    const other = randomPrefix('other');
    try {
      const mine = createRedisRateLimiter({ name: 'n', limit: 1, windowMs: 60_000, redis, prefix });
      const theirs = createRedisRateLimiter({ name: 'n', limit: 1, windowMs: 60_000, redis, prefix: other });
      expect(brief(await mine.hit('k'))).toBe('allow 1/0');
      expect(brief(await theirs.hit('k'))).toBe('allow 1/0');
    } finally {
      await deleteKeys(redis, other);
    }
  });

  it('reset deletes the key in Redis', async () => {
    const limiter = createRedisRateLimiter({ name: 'reset', limit: 1, windowMs: 60_000, redis, prefix });
    await limiter.hit('k');
    expect(await stateKeys()).toHaveLength(1);
    await limiter.reset('k');
    expect(await stateKeys()).toHaveLength(0);
    expect(brief(await limiter.hit('k'))).toBe('allow 1/0');
  });
});
