import type { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisLease, type LeaseLoss, type LeaseRedis, type StoreLease } from '../../src/cluster/index.js';
import { claimScript, leaseKeys } from '../../src/cluster/redis-lease.js';
import { createRedisRateLimiter, createTestClock } from '../../src/index.js';
import { expectRenewalThenTakeover, hashSlot, singletonInstance, sleep, statusOf } from '../support/cluster-stores.js';
import { randomPrefix } from '../support/limiter-redis.js';
import type { LimiterBackend } from '../support/limiter.js';
import { limiterSuite } from '../support/limiter-suite.js';
import { redisClusterAvailable, startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';

/**
 * The Redis limiter and the Redis lease on a real Redis Cluster: three redis-server processes of
 * this file's own (`cluster-enabled yes`, joined by `redis-cli --cluster create`, no replicas) on
 * loopback ports, used through an ioredis `Cluster` client, and killed (by pid) at the end with
 * their directory removed. Nothing touches the machine's Redis.
 */
let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  if (!redisClusterAvailable) return;
  cluster = await startRedisCluster(3);
  client = cluster.client();
  await client.ping();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe.runIf(redisClusterAvailable)('the limiter suite on a 3-primary Redis Cluster (ioredis Cluster)', () => {
  let prefix = '';
  const backend: LimiterBackend = {
    name: 'redis',
    create: (options) => createRedisRateLimiter({ ...options, redis: client, prefix }),
  };
  beforeEach(() => {
    prefix = randomPrefix('cluster');
  });
  afterEach(async () => {
    await cluster.deleteKeys(prefix);
  });

  it('spreads one limiter’s keys over every primary (the suite below is not confined to one node)', async () => {
    const limiter = backend.create({ name: 'spread', algorithm: 'fixed_window', limit: 5, windowMs: 60_000, clock: createTestClock() });
    for (let index = 0; index < 30; index += 1) expect((await limiter.hit(`user-${index}`)).allowed).toBe(true);
    const keys = await cluster.keysUnder(prefix);
    const perNode = cluster.nodes.map((node) => keys.filter((key) => node.slots.some(([first, last]) => hashSlot(key) >= first && hashSlot(key) <= last)).length);
    expect(perNode.every((count) => count > 0), `keys per primary: ${perNode.join(', ')}`).toBe(true);
  });

  limiterSuite(backend);
});

describe.runIf(redisClusterAvailable)('Redis leases on a 3-primary Redis Cluster (ioredis Cluster)', () => {
  const ttlMs = 1000;
  const prefix = randomPrefix('clusterlease');
  const cleanups: Array<() => Promise<unknown>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    if (cluster !== undefined) await cluster.deleteKeys(prefix);
  });

  function lease(name: string, owner: string, redis: LeaseRedis = client): StoreLease {
    const created = createRedisLease({ name, redis, prefix, ttlMs, owner });
    cleanups.push(() => created.release());
    return created;
  }

  /** A lease name whose keys hash to a slot served by `nodeIndex` (at the cluster's start). */
  function nameOn(nodeIndex: number, label: string): string {
    const node = cluster.nodes[nodeIndex]!;
    for (let suffix = 0; ; suffix += 1) {
      const name = `${label}-${suffix}`;
      const slot = hashSlot(leaseKeys(prefix, name).holder);
      if (node.slots.some(([first, last]) => slot >= first && slot <= last)) return name;
    }
  }

  it('takes a free lease with a fence seeded from the clock of the primary that serves its slot and refuses another owner; both keys sit on that primary', async () => {
    const name = nameOn(1, 'basic');
    const a = lease(name, 'a');
    const [seconds] = await cluster.nodes[1]!.direct.time();
    await expect(a.acquire()).resolves.toBe(true);
    expect(a.fence).toBeGreaterThan(Number(seconds) * 1000);
    await expect(lease(name, 'b').acquire()).resolves.toBe(false);
    const keys = leaseKeys(prefix, name);
    const node = await cluster.nodeOf(hashSlot(keys.holder));
    expect(node).toBe(cluster.nodes[1]);
    expect(await node.direct.get(keys.holder)).toBe('a');
    expect(await node.direct.get(keys.fence)).toBe(String(a.fence));
    const pttl = await node.direct.pttl(keys.holder);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(ttlMs);
  });

  it('holds leases whose slots are on each of the three primaries at once, each with its own fence', async () => {
    const names = [0, 1, 2].map((index) => nameOn(index, 'everywhere'));
    const leases = names.map((name) => lease(name, 'a'));
    expect(await Promise.all(leases.map((held) => held.acquire()))).toEqual([true, true, true]);
    const firsts = leases.map((held) => held.fence!);
    expect(firsts.every((fence) => fence > 1e12)).toBe(true);
    for (const [index, name] of names.entries()) {
      expect(await cluster.nodes[index]!.direct.get(leaseKeys(prefix, name).holder)).toBe('a');
    }
    await Promise.all(leases.map((held) => held.release()));
    const others = names.map((name) => lease(name, 'b'));
    expect(await Promise.all(others.map((held) => held.acquire()))).toEqual([true, true, true]);
    expect(others.map((held) => held.fence)).toEqual(firsts.map((fence) => fence + 1));
  });

  it('renews past its TTL with the same fence; once the holder stops renewing, the cluster expires it and another owner takes it with fence + 1', async () => {
    const name = nameOn(2, 'takeover');
    await expectRenewalThenTakeover(client, (owner, redis) => lease(name, owner, redis), ttlMs);
  });

  it('release() lets another owner take it at once with fence + 1', async () => {
    const name = nameOn(0, 'release');
    const a = lease(name, 'a');
    const b = lease(name, 'b');
    await a.acquire();
    const first = a.fence!;
    await a.release();
    await expect(b.acquire()).resolves.toBe(true);
    expect(b.fence).toBe(first + 1);
  });

  it('answers NOSCRIPT after SCRIPT FLUSH on every primary by loading the script on the primary that serves the lease', async () => {
    const name = nameOn(1, 'noscript');
    const a = lease(name, 'a');
    await a.acquire();
    for (const node of cluster.nodes) await node.direct.script('FLUSH');
    await a.release();
    await expect(lease(name, 'b').acquire()).resolves.toBe(true);
    const loaded = await Promise.all(cluster.nodes.map(async (node) => ((await node.direct.script('EXISTS', claimScript.sha1)) as number[])[0]));
    expect(loaded).toEqual([0, 1, 0]);
  });

  it('a held lease keeps renewing with its fence while its slot migrates to another primary (ASK while the slot moves, MOVED after); other owners stay refused', async () => {
    const name = nameOn(0, 'migrating');
    const keys = leaseKeys(prefix, name);
    const slot = hashSlot(keys.holder);
    const a = lease(name, 'a');
    const renewals: number[] = [];
    const counting: LeaseRedis = {
      evalsha: (...args) => client.evalsha(...args).then((reply) => (renewals.push(Date.now()), reply)),
      eval: (...args) => client.eval(...args).then((reply) => (renewals.push(Date.now()), reply)),
    };
    const held = lease(name, 'a', counting);
    const losses: LeaseLoss[] = [];
    held.onLost((_reason, loss) => losses.push(loss));
    await held.acquire();
    const first = held.fence!;
    const target = cluster.nodes[2]!;
    await cluster.migrateSlot(slot, target, async () => {
      // The keys are on the new primary, the slot still on the old one: it answers ASK.
      const before = renewals.length;
      await expect.poll(() => renewals.length, { timeout: ttlMs, interval: 20 }).toBeGreaterThan(before);
    });
    try {
      expect(await cluster.nodeOf(slot)).toBe(target);
      expect(await target.direct.get(keys.holder)).toBe('a');
      // Two renewals at least (every ttlMs / 3) go to the new primary, redirected by MOVED.
      const before = renewals.length;
      await sleep(ttlMs);
      expect(renewals.length - before).toBeGreaterThanOrEqual(2);
      expect(losses).toEqual([]);
      expect(held.isHeld()).toBe(true);
      expect(held.fence).toBe(first);
      expect(await target.direct.pttl(keys.holder)).toBeGreaterThan(ttlMs / 3);
      await expect(a.acquire()).resolves.toBe(true);
      expect(a.fence).toBe(first);
      await expect(lease(name, 'b').acquire()).resolves.toBe(false);
    } finally {
      await cluster.migrateSlot(slot, cluster.nodes[0]!);
    }
  });

  it('singleton children on the cluster: one runs, the other stands by; a graceful stop hands over well under the TTL, with fence + 1', async () => {
    const name = nameOn(2, 'singleton');
    const a = await singletonInstance(lease(name, 'a'), { retryMs: 50, drainMs: 20 });
    cleanups.push(() => a.supervisor.stop());
    await expect.poll(() => a.runs.length, { timeout: 2000 }).toBe(1);
    const b = await singletonInstance(lease(name, 'b'), { retryMs: 50 });
    cleanups.push(() => b.supervisor.stop());
    await sleep(200);
    expect(b.runs).toHaveLength(0);
    const stoppedAt = performance.now();
    await a.supervisor.stop();
    expect(statusOf(a.runs[0]!.actor)).toBe('done');
    await expect.poll(() => b.runs.length, { timeout: ttlMs / 2, interval: 10 }).toBe(1);
    expect(performance.now() - stoppedAt).toBeLessThan(ttlMs / 2);
    expect(b.runs[0]!.fence).toBe(a.runs[0]!.fence + 1);
  });
});
