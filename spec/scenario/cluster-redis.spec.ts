import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisLease, isLeaseUnavailableError, type LeaseLoss, type LeaseRedis } from '../../src/cluster/index.js';
import { claimScript, leaseKeys } from '../../src/cluster/redis-lease.js';
import { startTcpProxy, type TcpProxy } from '../support/cluster-proxy.js';
import { expectRenewalThenTakeover, hashSlot, singletonInstance, sleep, statusOf } from '../support/cluster-stores.js';
import { REDIS_URL, connectRedis, deleteKeys, keysUnder, randomPrefix, redisAvailable } from '../support/limiter-redis.js';

/**
 * Redis leases against the real server at REDIS_URL (ioredis clients, some through a TCP proxy the
 * spec pauses or cuts), on the real clock. Every key is under this file's own prefix and deleted
 * after; every wait is bounded.
 */
const ttlMs = 2000;
const prefix = randomPrefix('lease');
const clients: Redis[] = [];
const proxies: TcpProxy[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

function client(port?: number): Redis {
  const url = new URL(REDIS_URL);
  const created = port === undefined ? connectRedis({ maxRetriesPerRequest: 1 }) : new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, db: Number(url.pathname.slice(1) || 0) });
  created.on('error', () => undefined);
  clients.push(created);
  return created;
}

/** A client that counts the scripts it runs. */
function counting(redis: Redis): LeaseRedis & { counts: { evalsha: number; eval: number } } {
  const counts = { evalsha: 0, eval: 0 };
  return {
    counts,
    evalsha: (sha: string, numKeys: number, ...args: string[]) => {
      counts.evalsha += 1;
      return redis.evalsha(sha, numKeys, ...args);
    },
    eval: (script: string, numKeys: number, ...args: string[]) => {
      counts.eval += 1;
      return redis.eval(script, numKeys, ...args);
    },
  };
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  for (const proxy of proxies.splice(0)) await proxy.close();
});

afterAll(async () => {
  if (!redisAvailable) return;
  const admin = client();
  await deleteKeys(admin, prefix);
  for (const created of clients) created.disconnect();
});

describe.skipIf(!redisAvailable)('Redis leases (real server)', () => {
  it('takes a free lease with a fence seeded from Redis’s clock, under two keys that start with the prefix and share a hash slot; another owner is refused', async () => {
    const redis = client();
    const a = createRedisLease({ name: 'job', redis, prefix, ttlMs, owner: 'a' });
    const b = createRedisLease({ name: 'job', redis, prefix, ttlMs, owner: 'b' });
    cleanups.push(() => a.release());
    const [before] = await redis.time();
    await expect(a.acquire()).resolves.toBe(true);
    const [after] = await redis.time();
    expect(a.fence).toBeGreaterThan(Number(before) * 1000);
    expect(a.fence).toBeLessThanOrEqual((Number(after) + 1) * 1000 + 1);
    await expect(b.acquire()).resolves.toBe(false);
    const keys = leaseKeys(prefix, 'job');
    expect((await keysUnder(redis, prefix)).sort()).toEqual([keys.fence, keys.holder].sort());
    expect(hashSlot(keys.holder)).toBe(hashSlot(keys.fence));
    expect(await redis.get(keys.holder)).toBe('a');
    const pttl = await redis.pttl(keys.holder);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(ttlMs);
    expect(await redis.pttl(keys.fence)).toBe(-1);
  });

  it('names with braces still keep both keys in one slot, apart from every plain name', () => {
    for (const name of ['}x', 'a{b}c', '{}', 'job']) {
      const keys = leaseKeys(prefix, name);
      expect(keys.holder.startsWith(`${prefix}:`)).toBe(true);
      expect(hashSlot(keys.holder)).toBe(hashSlot(keys.fence));
    }
    expect(leaseKeys(prefix, '}x').holder).not.toBe(leaseKeys(prefix, 'x').holder);
  });

  it('renews past its TTL (PX extended, same fence); once the holder stops renewing, Redis expires it and the other owner takes it with fence + 1', async () => {
    await expectRenewalThenTakeover(client(), (owner, redis) => {
      const lease = createRedisLease({ name: 'takeover', redis, prefix, ttlMs, owner });
      if (owner === 'b') cleanups.push(() => lease.release());
      return lease;
    }, ttlMs);
  });

  it('release() lets another owner take it at once with fence + 1; a release with a stale fence deletes nothing', async () => {
    const redis = client();
    const a = createRedisLease({ name: 'release', redis, prefix, ttlMs, owner: 'a' });
    const b = createRedisLease({ name: 'release', redis, prefix, ttlMs, owner: 'b' });
    cleanups.push(() => b.release());
    await a.acquire();
    const first = a.fence!;
    await a.release();
    await expect(b.acquire()).resolves.toBe(true);
    expect(b.fence).toBe(first + 1);
    const keys = leaseKeys(prefix, 'release');
    const { releaseScript, releaseChannel } = await import('../../src/cluster/redis-lease.js');
    await redis.eval(releaseScript.source, 2, keys.holder, keys.fence, 'b', String(first), releaseChannel(prefix));
    expect(await redis.get(keys.holder)).toBe('b');
  });

  it('answers NOSCRIPT after SCRIPT FLUSH by loading the script, and retries no other error', async () => {
    const redis = client();
    const counted = counting(redis);
    const a = createRedisLease({ name: 'noscript', redis: counted, prefix, ttlMs, owner: 'a' });
    cleanups.push(() => a.release());
    await a.acquire();
    await redis.script('FLUSH');
    const before = { ...counted.counts };
    await a.release();
    await expect(a.acquire()).resolves.toBe(true);
    // The release and the claim each met NOSCRIPT once and ran their script with EVAL, which loads it...
    expect(counted.counts.evalsha - before.evalsha).toBe(2);
    expect(counted.counts.eval - before.eval).toBe(2);
    expect(await redis.script('EXISTS', claimScript.sha1)).toEqual([1]);
    // ...so the next claim runs by SHA alone.
    const loaded = { ...counted.counts };
    await expect(createRedisLease({ name: 'noscript', redis: counted, prefix, ttlMs, owner: 'b' }).acquire()).resolves.toBe(false);
    expect({ evalsha: counted.counts.evalsha - loaded.evalsha, eval: counted.counts.eval - loaded.eval }).toEqual({ evalsha: 1, eval: 0 });
    // Another error (the holder key of the wrong type) is reported, not retried.
    const keys = leaseKeys(prefix, 'wrongtype');
    await redis.hset(keys.holder, 'field', 'value');
    const wrong = createRedisLease({ name: 'wrongtype', redis: counted, prefix, ttlMs, owner: 'a' });
    const beforeWrong = { ...counted.counts };
    const error = await wrong.acquire().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_LEASE_UNAVAILABLE', reason: 'error' });
    expect(String((error as Error).cause)).toMatch(/WRONGTYPE/);
    expect({ evalsha: counted.counts.evalsha - beforeWrong.evalsha, eval: counted.counts.eval - beforeWrong.eval }).toEqual({ evalsha: 1, eval: 0 });
  });

  it('acquire() rejects LeaseUnavailableError within ttlMs when Redis stops answering; a held lease is lost while Redis still keeps it', async () => {
    const proxy = await startTcpProxy(Number(new URL(REDIS_URL).port || 6379));
    proxies.push(proxy);
    const redis = client(proxy.port);
    const direct = client();
    await redis.ping();
    const a = createRedisLease({ name: 'silent', redis, prefix, ttlMs, owner: 'a' });
    const other = createRedisLease({ name: 'silent-other', redis, prefix, ttlMs, owner: 'a' });
    await a.acquire();
    const losses: LeaseLoss[] = [];
    a.onLost((_reason, loss) => losses.push(loss));
    proxy.pause();
    const started = performance.now();
    const error = await other.acquire().catch((caught: unknown) => caught);
    expect(isLeaseUnavailableError(error)).toBe(true);
    expect((error as { reason: string }).reason).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(ttlMs);
    await expect.poll(() => losses.length, { timeout: ttlMs }).toBe(1);
    expect(losses[0]!.reason).toBe('unavailable');
    const keys = leaseKeys(prefix, 'silent');
    expect(await direct.get(keys.holder)).toBe('a');
    expect(await direct.pttl(keys.holder)).toBeGreaterThan(0);
    proxy.cut();
    proxy.resume();
  });
});

describe.skipIf(!redisAvailable)('singleton children on Redis leases (two supervisors in one process)', () => {
  it('one runs, the other stands by; a graceful stop hands over well under the TTL, with fence + 1', async () => {
    const redis = client();
    const a = await singletonInstance(createRedisLease({ name: 'singleton', redis, prefix, ttlMs, owner: 'a' }), { retryMs: 50, drainMs: 20 });
    cleanups.push(() => a.supervisor.stop());
    await expect.poll(() => a.runs.length, { timeout: 2000 }).toBe(1);
    const b = await singletonInstance(createRedisLease({ name: 'singleton', redis, prefix, ttlMs, owner: 'b' }), { retryMs: 50 });
    cleanups.push(() => b.supervisor.stop());
    await sleep(300);
    expect(b.runs).toHaveLength(0);
    const stoppedAt = performance.now();
    await a.supervisor.stop();
    expect(statusOf(a.runs[0]!.actor)).toBe('done');
    await expect.poll(() => b.runs.length, { timeout: ttlMs / 2, interval: 10 }).toBe(1);
    expect(performance.now() - stoppedAt).toBeLessThan(ttlMs / 2);
    expect(b.runs[0]!.fence).toBe(a.runs[0]!.fence + 1);
  });

  it("cutting the holder's Redis connection stops its actor before Redis lets the lease go; then the standby takes over", async () => {
    const proxy = await startTcpProxy(Number(new URL(REDIS_URL).port || 6379));
    proxies.push(proxy);
    const throughProxy = client(proxy.port);
    await throughProxy.ping();
    const direct = client();
    const keys = leaseKeys(prefix, 'cut');
    // Redis is asked the moment the actor ends (sent synchronously from its end), so what Redis
    // answers is its state at the stop, not after a busy machine got round to asking.
    let atStop: Promise<[string | null, number]> | undefined;
    const a = await singletonInstance(createRedisLease({ name: 'cut', redis: throughProxy, prefix, ttlMs, owner: 'a' }), {
      retryMs: 50,
      drainMs: 'never',
      shutdown: 10_000,
      onRunEnded: () => {
        atStop ??= Promise.all([direct.get(keys.holder), direct.pttl(keys.holder)]);
      },
    });
    cleanups.push(() => a.supervisor.stop());
    await expect.poll(() => a.runs.length, { timeout: 2000 }).toBe(1);
    const b = await singletonInstance(createRedisLease({ name: 'cut', redis: direct, prefix, ttlMs, owner: 'b' }), { retryMs: 50 });
    cleanups.push(() => b.supervisor.stop());
    proxy.pause();
    await expect.poll(() => a.runs[0]!.endedAt, { timeout: ttlMs, interval: 5 }).toBeDefined();
    expect(statusOf(a.runs[0]!.actor)).toBe('stopped');
    const [holderAtStop, pttlAtStop] = await atStop!;
    expect(holderAtStop).toBe('a');
    expect(pttlAtStop).toBeGreaterThan(0);
    expect(b.runs).toHaveLength(0);
    await expect.poll(() => b.runs.length, { timeout: ttlMs * 2, interval: 20 }).toBe(1);
    expect(b.runs[0]!.fence).toBe(a.runs[0]!.fence + 1);
    proxy.cut();
    proxy.resume();
  });
});
