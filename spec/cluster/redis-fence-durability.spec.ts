import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisLease } from '../../src/cluster/index.js';
import { redisServerAvailable, startOwnRedis, type OwnRedis } from '../support/limiter-redis.js';

/**
 * Redis lease fences across a restart of a Redis that keeps nothing on disk (`--save ''
 * --appendonly no`, as a cache Redis often runs): a redis-server of this file's own on a loopback
 * port, killed (SIGKILL, by pid) and started again on the same port, then killed at the end.
 *
 * The fence counter is an ordinary key, which such a restart loses: the lease seeds a missing
 * counter from Redis's clock in milliseconds, so the fences after the loss are still larger than
 * every fence before it (a fenced store keeps accepting the new holder's writes). The
 * multi-process scenario runs its Redis with `appendonly yes --appendfsync always`.
 */
describe.runIf(redisServerAvailable)('Redis lease fences across a restart of a Redis without persistence', () => {
  let own: OwnRedis | undefined;
  const clients: Redis[] = [];

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await own?.kill();
  });

  it('a takeover after the restart still gets a fence larger than every fence before it', async () => {
    own = await startOwnRedis();
    const redis = new Redis(own.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    redis.on('error', () => undefined);
    clients.push(redis);
    const ttlMs = 1000;
    const a = createRedisLease({ name: 'durable', redis, ttlMs, owner: 'a' });
    const b = createRedisLease({ name: 'durable', redis, ttlMs, owner: 'b' });
    await a.acquire();
    const first = a.fence!;
    await a.release();
    await b.acquire();
    const before = b.fence!;
    expect(before).toBe(first + 1);
    await b.release();
    await own.kill();
    await own.restart();
    const c = createRedisLease({ name: 'durable', redis, ttlMs, owner: 'c' });
    await expect.poll(() => c.acquire().catch(() => false), { timeout: 5000, interval: 50 }).toBe(true);
    try {
      expect(c.fence).toBeGreaterThan(before);
    } finally {
      await c.release();
    }
  });
});
