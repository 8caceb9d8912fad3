import { createServer, Server as NetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, isConfigError, type TelemetryEvent } from '../../src/index.js';
import { startBackend, type Backend, type BackendOptions } from '../../supervisors/backend.js';
import { startFlakyUpstream } from '../../supervisors/flaky-upstream.js';

/**
 * Starts the real example back end (node:http on 127.0.0.1, a real flaky upstream server, undici
 * clients, worker threads) on the real clock and talks to it over HTTP. Every request carries a
 * bounded timeout: a hanging request fails the spec.
 */
let backend: Backend | undefined;
afterEach(async () => {
  await backend?.stop();
  backend = undefined;
});

async function get(path: string, client = 'spec', method = 'GET'): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${backend!.url}${path}`, { method, headers: { 'x-client-id': client }, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text stays text.
  }
  return { status: response.status, body, headers: response.headers };
}

describe('the example back end over real HTTP', () => {
  it('serves quotes through the protection chain and rate limits per client', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, clientRate: 5, telemetry: createTelemetry() });
    const first = await get('/quote', 'alice');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ source: 'upstream', quote: expect.any(Number) });
    // At once, so that the bucket (5 a second) cannot refill in between however slow the machine.
    const burst = await Promise.all(Array.from({ length: 8 }, () => get('/quote', 'alice')));
    expect(burst.filter((answer) => answer.status === 429).length).toBeGreaterThanOrEqual(1);
    const limited = burst.find((answer) => answer.status === 429)!;
    expect(limited.body).toMatchObject({ error: 'ERR_RATE_LIMITED', stage: 'limiter' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await get('/quote', 'bob')).status).toBe(200);
  });

  it('opens the breaker when the upstream fails, serves the cached quote, probes through slowness and closes on recovery', async () => {
    const telemetry = createTelemetry();
    const states: string[] = [];
    telemetry.select('breaker.state').subscribe((event: TelemetryEvent) => states.push(String(event.metadata.to)));
    backend = await startBackend({
      port: 0,
      upstream: { failureRate: 0, latencyMs: 0 },
      breakerResetMs: 150,
      upstreamTimeoutMs: 100,
      telemetry,
    });
    expect((await get('/quote')).status).toBe(200);

    backend.upstream.set({ failureRate: 1 });
    const failing = [];
    for (let index = 0; index < 6; index += 1) failing.push(await get('/quote'));
    expect(failing.slice(0, 6).map((response) => response.status)).toEqual([502, 502, 502, 502, 502, 502]);
    expect(failing[0]!.body).toMatchObject({ stage: 'call' });
    expect(backend.infra.breaker('quotes', 'upstream').state()).toBe('open');
    const cached = await get('/quote');
    expect(cached.status).toBe(200);
    expect(cached.body.source).toBe('cache');

    backend.upstream.set({ failureRate: 0, latencyMs: 400 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(backend.infra.breaker('quotes', 'upstream').state()).toBe('half_open');
    const slow = await get('/quote');
    expect(slow.status).toBe(504);
    expect(slow.body).toMatchObject({ error: 'ERR_BREAKER_TIMEOUT', stage: 'breaker' });
    expect(backend.infra.breaker('quotes', 'upstream').state()).toBe('open');

    backend.upstream.set({ latencyMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const recovered = await get('/quote');
    expect(recovered.status).toBe(200);
    expect(recovered.body.source).toBe('upstream');
    expect(backend.infra.breaker('quotes', 'upstream').state()).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('computes on the worker threads, and reports metrics and health', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry: createTelemetry() });
    const cpu = await get('/cpu?n=20');
    expect(cpu).toMatchObject({ status: 200, body: { n: 20, fib: 6765 } });
    await get('/quote');
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(metrics.body).toContain('# TYPE breaker_call_total counter');
    expect(metrics.body).toMatch(/protect_call_total\{protect="quote",outcome="ok",stage="call"\} 1/);
    expect(metrics.body).toMatch(/limiter_hit_total\{limiter="compute\.clients",allowed="true"\} 1/);
    const health = await get('/health');
    expect(health.status).toBe(200);
    expect(health.body.breakers).toEqual({ 'quotes/upstream': 'closed' });
    expect(health.body.pools['quotes/upstream']).toMatchObject({ state: expect.any(String), checkedOut: 0 });
    expect(health.body.tree.children.map((child: { id: string }) => child.id)).toEqual(['infrastructure/quotes', 'infrastructure/compute', 'http']);
    expect(health.body.tree.children.map((child: { restarts: number }) => child.restarts)).toEqual([0, 0, 0]);
  });

  it('a crash requested with POST /crash?child=http is restarted by the supervisor on the same port, and /health counts it with the last exit reason', async () => {
    const telemetry = createTelemetry();
    const events: string[] = [];
    telemetry.select('supervisor.child').subscribe((event) => events.push(`${event.name} ${String(event.metadata.child)} ${String(event.metadata.reason ?? '')}`.trim()));
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry });
    const url = backend.url;
    expect((await get('/crash?child=nope', 'spec', 'POST'))).toMatchObject({ status: 404, body: { crashable: ['http'] } });
    const crash = await get('/crash?child=http', 'spec', 'POST');
    expect(crash).toMatchObject({ status: 202, body: { crashing: 'http' } });
    await expect.poll(() => events, { timeout: 5_000 }).toContain('supervisor.child.restarted http');
    expect(events).toContain('supervisor.child.exited http error');
    expect(backend.url).toBe(url);
    const health = await get('/health');
    expect(health.status).toBe(200);
    const http = health.body.tree.children.find((child: { id: string }) => child.id === 'http');
    expect(http).toMatchObject({ running: true, restarts: 1, lastExit: { reason: 'error', error: 'crash requested by POST /crash?child=http' } });
    expect((await get('/quote')).status).toBe(200);
  });

  it('POST is refused on the other routes and GET on /crash', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry: createTelemetry() });
    expect((await get('/quote', 'spec', 'POST')).status).toBe(405);
    expect((await get('/crash?child=http')).status).toBe(405);
  });

  it('keeps its rate limits in Redis when given REDIS_URL', async () => {
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const { Redis } = await import('ioredis');
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const keysBefore = await redis.keys('overseer-backend:*');
    for (const key of keysBefore) await redis.del(key);
    backend = await startBackend({ port: 0, redisUrl, upstream: { failureRate: 0, latencyMs: 0 }, clientRate: 3, telemetry: createTelemetry() });
    const statuses = [];
    for (let index = 0; index < 5; index += 1) statuses.push((await get('/quote', 'redis-client')).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    const keys = await redis.keys('overseer-backend:*');
    expect(keys.length).toBeGreaterThan(0);
    await backend.stop();
    backend = undefined;
    for (const key of keys) await redis.del(key);
    redis.disconnect();
  });

  it('drains calls in flight on stop and refuses new connections after', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 300 }, telemetry: createTelemetry() });
    const url = backend.url;
    const inFlight = get('/quote');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopping = backend.stop();
    backend = undefined;
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    await stopping;
    await expect(fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });

  it.each<[string, BackendOptions]>([
    ['port', { port: -1 }],
    ['port', { port: 65_536 }],
    ['port', { port: 'x' as unknown as number }],
    ['clientRate', { clientRate: 0 }],
    ['clientRate', { clientRate: 2.5 }],
    ['upstream.failureRate', { upstream: { failureRate: 2 } }],
    ['upstream.latencyMs', { upstream: { latencyMs: -1 } }],
    ['breakerResetMs', { breakerResetMs: Number.NaN }],
    ['upstreamTimeoutMs', { upstreamTimeoutMs: 0 }],
    ['redisUrl', { redisUrl: '' }],
  ])('startBackend rejects a bad %s with a ConfigError naming it, never throwing, and starts nothing', async (option, options) => {
    const telemetry = createTelemetry();
    const started: string[] = [];
    telemetry.select('supervisor.child.started').subscribe((event) => started.push(String(event.metadata.child)));
    const servers = listeningServers();
    let starting: Promise<Backend> | undefined;
    expect(() => (starting = startBackend({ ...options, telemetry }))).not.toThrow();
    const error = await starting!.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isConfigError(error) ? error.option : error).toBe(option);
    expect(started).toEqual([]);
    expect(serversSince(servers)).toBe(0);
  });

  it('the flaky upstream rejects bad behaviour with a ConfigError naming it, at start and live, changing nothing', async () => {
    const option = (error: unknown): unknown => (isConfigError(error) ? error.option : error);
    let starting: Promise<unknown> | undefined;
    expect(() => (starting = startFlakyUpstream({ failureRate: -0.5 }))).not.toThrow();
    expect(await starting!.then(() => 'started', option)).toBe('upstream.failureRate');
    const upstream = await startFlakyUpstream({ failureRate: 0.5, latencyMs: 1 });
    try {
      expect(option(catching(() => upstream.set({ latencyMs: Number.POSITIVE_INFINITY })))).toBe('upstream.latencyMs');
      expect(option(catching(() => upstream.set({ failureRate: 0, latencyMs: -1 })))).toBe('upstream.latencyMs');
      expect(upstream.behaviour()).toEqual({ failureRate: 0.5, latencyMs: 1 });
    } finally {
      await upstream.close();
    }
  });

  it('a start that fails part-way (its port taken) rejects and stops everything it had started', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const { port } = blocker.address() as { port: number };
    const telemetry = createTelemetry();
    const events: string[] = [];
    telemetry.select('supervisor').subscribe((event) => events.push(`${event.name} ${String(event.metadata.child ?? event.metadata.supervisor)}`));
    const servers = listeningServers();
    try {
      await expect(startBackend({ port, telemetry, upstream: { failureRate: 0, latencyMs: 0 } })).rejects.toThrow();
      expect(events).toContain('supervisor.shutdown infrastructure');
      await expect.poll(() => serversSince(servers), { timeout: 5_000 }).toBe(0);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

/** What `run` throws, or 'returned'. */
function catching(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return 'returned';
}

/**
 * The TCP servers this process listens with now. Node lists its live handles only through the
 * undocumented `process._getActiveHandles()`; counting `process.getActiveResourcesInfo()` would
 * confuse a server left running with one an earlier spec is still closing.
 */
function listeningServers(): Set<NetServer> {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return new Set(handles.filter((handle): handle is NetServer => handle instanceof NetServer && handle.listening));
}

/** The servers of `now` that were not in `before`. */
function serversSince(before: Set<NetServer>): number {
  return [...listeningServers()].filter((server) => !before.has(server)).length;
}
