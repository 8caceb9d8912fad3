import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTelemetry } from '../../src/index.js';
import { leaseKeys } from '../../src/cluster/redis-lease.js';
import { parseStrictly } from '../monitoring/exposition-checks.js';
import { REDIS_URL, connectRedis, deleteKeys, keysUnder, randomPrefix, redisAvailable } from '../support/limiter-redis.js';
import { publishedQuoteKey } from '../../supervisors/across-instances.js';
import { startBackend, type Backend } from '../../supervisors/backend.js';

/**
 * Two real example back ends (node:http on 127.0.0.1, each with its own flaky upstream, worker
 * threads and telemetry) on different ports, both started with the Redis at REDIS_URL under this
 * file's own key prefix, as two instances of one service behind a load balancer would be; the spec
 * talks to them over HTTP on the real clock. Every key under the prefix is deleted afterwards, and
 * every wait is bounded.
 */
const prefix = randomPrefix('backend');
const leaseTtlMs = 1500;
const started: Backend[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((backend) => backend.stop()));
});

afterAll(async () => {
  if (!redisAvailable) return;
  const redis = connectRedis({ maxRetriesPerRequest: 1 });
  try {
    await deleteKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }
});

async function start(instance: string, options: { redisUrl?: string } = { redisUrl: REDIS_URL }): Promise<Backend> {
  const backend = await startBackend({
    port: 0,
    ...options,
    redisPrefix: prefix,
    instance,
    leaseTtlMs,
    quoteRefreshMs: 100,
    upstream: { failureRate: 0, latencyMs: 0 },
    observer: false,
    telemetry: createTelemetry(),
  });
  started.push(backend);
  return backend;
}

async function ask(backend: Backend, path: string, method = 'GET'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${backend.url}${path}`, { method, headers: { 'x-client-id': 'spec' }, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text stays text.
  }
  return { status: response.status, body };
}

interface SingletonHealth {
  id: string;
  lease: string;
  owner: string;
  held: boolean;
  fence: number | null;
  running: boolean;
}

async function singletonOf(backend: Backend): Promise<SingletonHealth> {
  const health = await ask(backend, '/health');
  expect(health.status).toBe(200);
  expect(health.body.singletons).toHaveLength(1);
  return health.body.singletons[0] as SingletonHealth;
}

/** Polls both back ends until exactly one holds the publisher's lease and runs it; returns [holder, standby]. */
async function holderOf(backends: readonly Backend[]): Promise<[Backend, Backend]> {
  let pair: [Backend, Backend] | undefined;
  await expect
    .poll(
      async () => {
        const states = await Promise.all(backends.map(singletonOf));
        const holders = backends.filter((_, index) => states[index]!.held && states[index]!.running);
        pair = holders.length === 1 ? [holders[0]!, backends.find((backend) => backend !== holders[0])!] : undefined;
        return holders.length;
      },
      { timeout: leaseTtlMs * 4, interval: 50 },
    )
    .toBe(1);
  return pair!;
}

/** The value of the series of `family` whose labels include `labels`, in a scrape. */
function sampleOf(text: string, family: string, labels: Record<string, string>): string | undefined {
  const found = parseStrictly(text).get(family);
  return found?.metrics.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))?.value;
}

describe.runIf(redisAvailable)('two example back ends on one Redis (REDIS_URL)', () => {
  it('/health and /metrics show one holder of the singleton, with its fence; it publishes fenced, and a graceful stop hands over with fence + 1', async () => {
    const backends = [await start('backend-a'), await start('backend-b')];
    const [holder, standby] = await holderOf(backends);
    const held = await singletonOf(holder);
    expect(held).toEqual({ id: 'quote-publisher', lease: 'quote-publisher', owner: holder.fleet!.instance, held: true, fence: expect.any(Number), running: true });
    expect(held.fence).toBeGreaterThan(0);
    expect(await singletonOf(standby)).toEqual({ id: 'quote-publisher', lease: 'quote-publisher', owner: standby.fleet!.instance, held: false, fence: null, running: false });

    const holderMetrics = (await ask(holder, '/metrics')).body as string;
    const labels = { lease: 'quote-publisher', owner: holder.fleet!.instance };
    expect(sampleOf(holderMetrics, 'lease_held', labels)).toBe('1');
    expect(sampleOf(holderMetrics, 'lease_fence', labels)).toBe(String(held.fence));
    // The standby never held it: no series says it does.
    expect(sampleOf((await ask(standby, '/metrics')).body as string, 'lease_held', { lease: 'quote-publisher', owner: standby.fleet!.instance })).toBeUndefined();

    // Once the holder has a quote, it publishes it with its fence.
    expect((await ask(holder, '/quote')).status).toBe(200);
    const redis = connectRedis({ maxRetriesPerRequest: 1 });
    try {
      await expect.poll(() => redis.hgetall(publishedQuoteKey(prefix)), { timeout: 2000, interval: 25 }).toMatchObject({ fence: String(held.fence), owner: holder.fleet!.instance });

      // A graceful stop releases the lease: the standby takes over well within the TTL, with the next fence.
      const stoppedAt = Date.now();
      await holder.stop();
      started.splice(started.indexOf(holder), 1);
      await expect.poll(async () => (await singletonOf(standby)).running, { timeout: leaseTtlMs, interval: 25 }).toBe(true);
      expect(Date.now() - stoppedAt).toBeLessThan(leaseTtlMs);
      expect(await singletonOf(standby)).toMatchObject({ held: true, fence: held.fence! + 1 });
      expect(sampleOf((await ask(standby, '/metrics')).body as string, 'lease_fence', { lease: 'quote-publisher', owner: standby.fleet!.instance })).toBe(String(held.fence! + 1));
      expect((await ask(standby, '/quote')).status).toBe(200);
      await expect.poll(() => redis.hget(publishedQuoteKey(prefix), 'fence'), { timeout: 2000, interval: 25 }).toBe(String(held.fence! + 1));
    } finally {
      redis.disconnect();
    }
  });

  it('an isolation made on one back end refuses upstream calls in the other within 1 s (it serves its cache), shows in /health and /metrics, and a restore on the other lifts it everywhere', async () => {
    const [a, b] = [await start('backend-a'), await start('backend-b')];
    for (const backend of [a, b]) {
      expect((await ask(backend, '/quote')).body).toMatchObject({ source: 'upstream' });
      await expect.poll(async () => (await ask(backend, '/health')).body.breakerFleet.status, { timeout: 2000, interval: 25 }).toEqual({ redis: 'available', subscribed: true });
    }

    const sentAt = Date.now();
    const isolated = await ask(a, '/isolate?breaker=quotes.upstream&reason=provider%20incident', 'POST');
    expect(isolated).toMatchObject({ status: 200, body: { isolated: 'quotes.upstream', isolation: { by: 'backend-a', reason: 'provider incident' } } });
    await expect.poll(async () => (await ask(b, '/health')).body.breakers['quotes/upstream'], { timeout: 1000, interval: 10 }).toBe('disabled');
    const refusedWithinMs = Date.now() - sentAt;
    expect(refusedWithinMs).toBeLessThan(1000);
    // The breaker refuses: b answers from its cache without calling the upstream.
    expect((await ask(b, '/quote')).body).toMatchObject({ source: 'cache' });
    const health = (await ask(b, '/health')).body;
    expect(health.breakerFleet.isolated['quotes.upstream']).toMatchObject({ by: 'backend-a', reason: 'provider incident' });
    await expect
      .poll(async () => (await ask(b, '/health')).body.breakerFleet.view, { timeout: 1000, interval: 25 })
      .toMatchObject({ 'backend-a': { 'quotes.upstream': { state: 'disabled', isolated: true } }, 'backend-b': { 'quotes.upstream': { state: 'disabled', isolated: true } } });
    expect(sampleOf((await ask(b, '/metrics')).body as string, 'breaker_fleet_isolated', { fleet: prefix, breaker: 'quotes.upstream' })).toBe('1');

    expect(await ask(b, '/restore?breaker=quotes.upstream', 'POST')).toMatchObject({ status: 200, body: { restored: 'quotes.upstream', existed: true } });
    for (const backend of [a, b]) {
      await expect.poll(async () => (await ask(backend, '/health')).body.breakers['quotes/upstream'], { timeout: 1000, interval: 10 }).toBe('closed');
      expect((await ask(backend, '/quote')).body).toMatchObject({ source: 'upstream' });
    }
    expect(sampleOf((await ask(a, '/metrics')).body as string, 'breaker_fleet_isolated', { fleet: prefix, breaker: 'quotes.upstream' })).toBe('0');
    console.log(`backend-cluster: isolate on one back end → the other refusing, ${refusedWithinMs} ms (polled every 10 ms over HTTP)`);
  });

  it('asks for a breaker name, and without a Redis has no fleet: /isolate is a 404 and /health shows no cluster', async () => {
    const clustered = await start('backend-a');
    expect(await ask(clustered, '/isolate', 'POST')).toMatchObject({ status: 400, body: { parameter: 'breaker' } });
    expect((await ask(clustered, '/isolate?breaker=quotes.upstream', 'GET')).status).toBe(405);
    const alone = await start('alone', {});
    expect(alone.fleet).toBeUndefined();
    expect((await ask(alone, '/isolate?breaker=quotes.upstream', 'POST')).status).toBe(404);
    expect((await ask(alone, '/restore?breaker=quotes.upstream', 'POST')).status).toBe(404);
    const health = (await ask(alone, '/health')).body;
    expect(health).not.toHaveProperty('singletons');
    expect(health).not.toHaveProperty('breakerFleet');
  });

  it('leaves no holder and no isolation in Redis, only what outlives instances on purpose (fence counter, published quote, limiter windows)', async () => {
    const redis = connectRedis({ maxRetriesPerRequest: 1 });
    try {
      // Every back end stopped: no holder, no isolation. The lease's fence counter and the published
      // quote outlive the instances by design (fences must keep increasing); the rate limiters'
      // windows expire by themselves.
      const keys = leaseKeys(prefix, 'quote-publisher');
      const left = (await keysUnder(redis, prefix)).filter((key) => !key.includes(':quotes.clients:') && !key.includes(':compute.clients:'));
      expect(left.sort()).toEqual([keys.fence, publishedQuoteKey(prefix)].sort());
      expect(await redis.exists(keys.holder)).toBe(0);
      await deleteKeys(redis, prefix);
      expect(await keysUnder(redis, prefix)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
