import { connect, createServer, Server as NetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTelemetry, isConfigError, type TelemetryEvent } from '../../src/index.js';
import { parseStrictly, promtoolCheck, promtoolRequired } from '../monitoring/exposition-checks.js';
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
    expect(health.body.tree.children.map((child: { id: string }) => child.id)).toEqual(['infrastructure/quotes', 'infrastructure/compute', 'quote-refresher', 'http']);
    expect(health.body.tree.children.map((child: { restarts: number }) => child.restarts)).toEqual([0, 0, 0, 0]);
    expect(health.body.tree.children.map((child: { state: string }) => child.state)).toEqual(['running', 'running', 'running', 'running']);
  });

  it('a crash requested with POST /crash?child=http is restarted by the supervisor on the same port, and /health counts it with the last exit reason', async () => {
    const telemetry = createTelemetry();
    const events: string[] = [];
    telemetry.select('supervisor.child').subscribe((event) => events.push(`${event.name} ${String(event.metadata.child)} ${String(event.metadata.reason ?? '')}`.trim()));
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry });
    const url = backend.url;
    expect(await get('/crash?child=nope', 'spec', 'POST')).toMatchObject({ status: 404, body: { crashable: ['quote-refresher', 'http'] } });
    const crash = await get('/crash?child=http', 'spec', 'POST');
    expect(crash).toMatchObject({ status: 202, body: { crashing: 'http' } });
    await expect.poll(() => events, { timeout: 5_000 }).toContain('supervisor.child.restarted http');
    expect(events).toContain('supervisor.child.exited http error');
    expect(backend.url).toBe(url);
    // The restarted server answers at the address the first start bound with port 0.
    expect((await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
    const health = await get('/health');
    expect(health.status).toBe(200);
    const http = health.body.tree.children.find((child: { id: string }) => child.id === 'http');
    expect(http).toMatchObject({ running: true, restarts: 1, lastExit: { reason: 'error', error: 'crash requested by POST /crash?child=http' } });
    expect((await get('/quote')).status).toBe(200);
  });

  it('/health answers 200 while a namespace is terminated, showing it stopped beside the running children', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry: createTelemetry() });
    await backend.infra.supervisor.terminateChild('quotes');
    const health = await get('/health');
    expect(health.status).toBe(200);
    expect(health.body.tree.children.map((child: { id: string; state: string }) => `${child.id} ${child.state}`)).toEqual([
      'quotes stopped',
      'infrastructure/compute running',
      'quote-refresher running',
      'http running',
    ]);
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

describe('the example back end refuses bad request input with a clear 4xx', () => {
  let shared: Backend;
  beforeAll(async () => {
    shared = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, clientRate: 1_000, telemetry: createTelemetry() });
  });
  afterAll(() => shared.stop());

  const ask = async (target: string, method = 'GET'): Promise<{ status: number; headers: string; body: any }> => {
    const port = Number(new URL(shared.url).port);
    const answer = await rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const split = answer.indexOf('\r\n\r\n');
    const head = answer.slice(0, split);
    const raw = answer.slice(split + 4);
    const text = /\r\ntransfer-encoding: chunked/i.test(head) ? dechunked(raw) : raw;
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body };
  };

  it('/cpu clamps n into [1, 32]: n=3000000000 and a 400-digit n compute fib(32), n=-7 and n=0 fib(1)', async () => {
    expect(await ask('/cpu?n=3000000000')).toMatchObject({ status: 200, body: { n: 32, fib: 2_178_309 } });
    expect(await ask(`/cpu?n=${'9'.repeat(400)}`)).toMatchObject({ status: 200, body: { n: 32, fib: 2_178_309 } });
    expect(await ask('/cpu?n=-7')).toMatchObject({ status: 200, body: { n: 1, fib: 1 } });
    expect(await ask('/cpu?n=0')).toMatchObject({ status: 200, body: { n: 1, fib: 1 } });
    expect(await ask('/cpu?n=%2B12')).toMatchObject({ status: 200, body: { n: 12, fib: 144 } });
  });

  it('/cpu computes the default n=25 when n is missing or empty', async () => {
    expect(await ask('/cpu')).toMatchObject({ status: 200, body: { n: 25, fib: 75_025 } });
    expect(await ask('/cpu?n=')).toMatchObject({ status: 200, body: { n: 25, fib: 75_025 } });
  });

  it.each<[string, string]>([
    ...['abc', '1.5', '1e3', '0x10', ' 5', '5 ', '--5', '%ZZ', 'NaN', 'Infinity'].map((n): [string, string] => [JSON.stringify(n), n]),
    ['a 10 kB string', 'x'.repeat(10_000)],
  ])('/cpu answers 400 naming n for n=%s, echoing at most 64 characters of it', async (_label, n) => {
    const answer = await ask(`/cpu?n=${encodeURIComponent(n)}`.replace('%25ZZ', '%ZZ'));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'ERR_BAD_REQUEST', parameter: 'n', message: expect.stringContaining('an integer') });
    expect(String(answer.body.value).length).toBeLessThanOrEqual(64);
  });

  it('/cpu answers 400 when n is given twice', async () => {
    expect(await ask('/cpu?n=3&n=4')).toMatchObject({ status: 400, body: { error: 'ERR_BAD_REQUEST', parameter: 'n' } });
  });

  it('a request target that is not a URL (//[, http://[::1/x) is a 400, not a 500', async () => {
    expect(await ask('//[')).toMatchObject({ status: 400, body: { error: 'ERR_BAD_REQUEST' } });
    expect(await ask('http://[::1/x')).toMatchObject({ status: 400, body: { error: 'ERR_BAD_REQUEST' } });
  });

  it('POST /crash without a child, or with an empty or repeated one, is a 400 naming the parameter', async () => {
    for (const target of ['/crash', '/crash?child=', '/crash?child=http&child=http']) {
      expect(await ask(target, 'POST'), target).toMatchObject({ status: 400, body: { error: 'ERR_BAD_REQUEST', parameter: 'child' } });
    }
  });

  it('POST /crash of an unknown child (a supervisor, a 3000-character id) is a 404 listing the crashable children, echoing at most 64 characters', async () => {
    for (const child of ['infrastructure/quotes', 'quotes', 'x'.repeat(3_000)]) {
      const answer = await ask(`/crash?child=${child}`, 'POST');
      expect(answer).toMatchObject({ status: 404, body: { error: 'ERR_NOT_FOUND', crashable: ['quote-refresher', 'http'] } });
      expect(String(answer.body.child).length).toBeLessThanOrEqual(64);
    }
  });

  it('a wrong method is a 405 that names the allowed one in Allow, and an unknown route a 404', async () => {
    const post = await ask('/health', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers).toContain('allow: get');
    const get = await ask('/crash?child=http');
    expect(get.status).toBe(405);
    expect(get.headers).toContain('allow: post');
    expect((await ask('/nope')).status).toBe(404);
    // Still serving after all of the above.
    expect((await ask('/quote')).status).toBe(200);
  });

  it("configure on the running back end's tree refuses a null namespace patch with a ConfigError naming patch.quotes, changing nothing", () => {
    let thrown: unknown;
    try {
      shared.infra.configure({ quotes: null } as never);
    } catch (error) {
      thrown = error;
    }
    expect(isConfigError(thrown) ? thrown.option : thrown).toBe('patch.quotes');
    expect(shared.infra.breaker('quotes', 'upstream').state()).toBe('closed');
  });
});

describe('the example back end shows restarts with backoff', () => {
  it('POST /crash?child=quote-refresher: /health shows it in backoff with the time left, then running again; /metrics counts the backoff', async () => {
    const telemetry = createTelemetry();
    const backoffs: TelemetryEvent[] = [];
    telemetry.select('supervisor.child.backoff').subscribe((event) => backoffs.push(event));
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry });
    const refresher = async (): Promise<any> =>
      (await get('/health')).body.tree.children.find((child: { id: string }) => child.id === 'quote-refresher');
    expect(await refresher()).toMatchObject({ state: 'running', running: true, restarts: 0 });

    expect(await get('/crash?child=quote-refresher', 'spec', 'POST')).toMatchObject({ status: 202, body: { crashing: 'quote-refresher' } });
    await expect.poll(refresher, { timeout: 5_000, interval: 20 }).toMatchObject({ state: 'backoff' });
    const waiting = await refresher();
    // The first restart waits minMs 1000 ms × (1 + u·0.2): at most 1200 ms.
    expect(waiting).toMatchObject({ running: false, restarts: 0, lastExit: { reason: 'error', error: 'crash requested by POST /crash?child=quote-refresher' } });
    expect(waiting.restartInMs).toBeGreaterThan(0);
    expect(waiting.restartInMs).toBeLessThanOrEqual(1_200);
    expect(backoffs).toHaveLength(1);
    expect(backoffs[0]).toMatchObject({ metadata: { supervisor: 'infrastructure', child: 'quote-refresher', attempt: 1 } });
    expect(backoffs[0]!.measurements.delay).toBeGreaterThanOrEqual(1_000);
    expect(backoffs[0]!.measurements.delay).toBeLessThanOrEqual(1_200);

    // A child waiting for its restart has nothing to crash.
    expect(await get('/crash?child=quote-refresher', 'spec', 'POST')).toMatchObject({ status: 409, body: { child: 'quote-refresher', state: 'backoff' } });
    const during = await get('/metrics');
    expect(during.body).toMatch(/^supervisor_child_backoff_total\{supervisor="infrastructure"\} 1$/m);
    expect(during.body).toMatch(/^supervisor_children_in_backoff\{supervisor="infrastructure"\} 1$/m);
    expect(during.body).toMatch(/^supervisor_children_in_backoff\{supervisor="infrastructure\/quotes"\} 0$/m);
    const families = parseStrictly(during.body);
    expect(families.get('supervisor_children_in_backoff')?.type).toBe('GAUGE');
    expect(families.get('supervisor_child_backoff_total')?.type).toBe('COUNTER');
    if (promtoolRequired()) expect(promtoolCheck(during.body)).toEqual({ status: 0, output: '' });

    await expect.poll(refresher, { timeout: 5_000, interval: 50 }).toMatchObject({ state: 'running', running: true, restarts: 1 });
    expect(await refresher()).not.toHaveProperty('restartInMs');
    const after = await get('/metrics');
    expect(after.body).toMatch(/^supervisor_child_backoff_total\{supervisor="infrastructure"\} 1$/m);
    expect(after.body).toMatch(/^supervisor_children_in_backoff\{supervisor="infrastructure"\} 0$/m);
  });

  it('two crash requests for the quote refresher at once crash it once: one exit, one backoff, each request answered 202 or 409', async () => {
    const telemetry = createTelemetry();
    const events: string[] = [];
    telemetry.select('supervisor.child').subscribe((event) => {
      if (event.metadata.child === 'quote-refresher') events.push(event.name);
    });
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry });
    const answers = await Promise.all([1, 2].map(() => get('/crash?child=quote-refresher', 'spec', 'POST')));
    expect(answers.map((answer) => answer.status).every((status) => status === 202 || status === 409)).toBe(true);
    await expect.poll(() => events, { timeout: 5_000 }).toContain('supervisor.child.backoff');
    // Past the second request's deferred send: nothing more happens until the restart is due.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events).toEqual(['supervisor.child.started', 'supervisor.child.exited', 'supervisor.child.backoff']);
  });

  it('the quote refresher crashes when the upstream fails, and its supervisor waits out a backoff before restarting it', async () => {
    const telemetry = createTelemetry();
    const events: string[] = [];
    telemetry.select('supervisor.child').subscribe((event) => {
      if (event.metadata.child === 'quote-refresher') events.push(`${event.name} ${event.metadata.error instanceof Error ? event.metadata.error.message : ''}`.trim());
    });
    backend = await startBackend({ port: 0, upstream: { failureRate: 1, latencyMs: 0 }, quoteRefreshMs: 20, telemetry });
    await expect.poll(() => events, { timeout: 5_000 }).toContain('supervisor.child.backoff');
    expect(events.slice(0, 3)).toEqual(['supervisor.child.started', 'supervisor.child.exited upstream answered 500', 'supervisor.child.backoff']);
    const health = await get('/health');
    expect(health.body.tree.children.find((child: { id: string }) => child.id === 'quote-refresher')).toMatchObject({ state: 'backoff' });
  });

  it('quoteRefreshMs must be a finite number > 0', async () => {
    for (const quoteRefreshMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      const error = await startBackend({ port: 0, quoteRefreshMs, telemetry: createTelemetry() }).then(
        (started) => started.stop().then(() => 'started'),
        (reason: unknown) => reason,
      );
      expect(isConfigError(error) ? error.option : error).toBe('quoteRefreshMs');
    }
  });
});

/** The body of a `transfer-encoding: chunked` answer. */
function dechunked(raw: string): string {
  let body = '';
  let rest = raw;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!(size > 0)) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/** Sends `request` as it is on a fresh TCP connection and returns the whole answer (bounded: 5 s). */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(request.slice(0, 80))} within 5 s`));
    });
  });
}

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

describe('the example back end serves the observer at /observer, read-only', () => {
  /** Reads an event stream until `done` holds of the messages so far (or 5 s pass); the stream stays open. */
  async function follow(url: string): Promise<{ messages: Array<{ event: string; data: any }>; until(done: (messages: Array<{ event: string; data: any }>) => boolean): Promise<void>; closed: Promise<void>; abort(): void }> {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const messages: Array<{ event: string; data: any }> = [];
    const waiters = new Set<() => void>();
    let text = '';
    const closed = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = text.indexOf('\n\n')) >= 0) {
            const block = text.slice(0, end);
            text = text.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event !== undefined && data !== undefined) messages.push({ event, data: JSON.parse(data) });
          }
          for (const waiter of waiters) waiter();
        }
      } catch {
        // Aborted by the spec.
      }
    })();
    return {
      messages,
      closed,
      abort: () => controller.abort(),
      until: (done) =>
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (!done(messages)) return;
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`the stream did not show it within 5 s (${messages.length} messages)`));
          }, 5_000);
          waiters.add(check);
          check();
        }),
    };
  }

  it('GET /observer/ is the page; /observer/snapshot shows the tree, the breaker, pools, thread pool and limiters; actions do not exist', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry: createTelemetry() });
    const page = await fetch(`${backend.url}/observer/`, { signal: AbortSignal.timeout(5_000) });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('src="/observer/app.js"');
    const snapshot = await get('/observer/snapshot');
    expect(snapshot.status).toBe(200);
    expect(snapshot.body.supervisors.map((view: { id: string }) => view.id)).toEqual(['infrastructure', 'infrastructure/quotes', 'infrastructure/compute']);
    expect(snapshot.body.supervisors[0].children.map((child: { id: string; status: string }) => `${child.id} ${child.status}`)).toEqual([
      'quotes running',
      'compute running',
      'quote-refresher running',
      'http running',
    ]);
    expect(snapshot.body.breakers).toEqual([expect.objectContaining({ name: 'quotes.upstream', state: 'closed' })]);
    expect(snapshot.body.pools).toEqual([expect.objectContaining({ name: 'quotes.upstream', available: true })]);
    expect(snapshot.body.threadPools).toEqual([expect.objectContaining({ name: 'compute.cpu', available: true })]);
    expect(snapshot.body.limiters.map((limiter: { name: string }) => limiter.name)).toEqual(['quotes.clients', 'compute.clients']);
    expect(snapshot.body.actions).toBe(false);
    const action = await get('/observer/actions/child/restart', 'spec', 'POST');
    expect(action.status).toBe(404);
  });

  it('an event stream shows the quote refresher crash with its backoff countdown, and an open stream does not hold up stop()', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry: createTelemetry() });
    const stream = await follow(`${backend.url}/observer/events`);
    await stream.until((messages) => messages.length >= 1);
    expect(stream.messages[0]!.event).toBe('snapshot');
    expect((await get('/crash?child=quote-refresher', 'spec', 'POST')).status).toBe(202);
    const inBackoff = (messages: Array<{ event: string; data: any }>): any =>
      messages
        .flatMap((message) => message.data.supervisors ?? [])
        .flatMap((view: any) => view.children)
        .find((child: any) => child.id === 'quote-refresher' && child.status === 'backoff');
    await stream.until((messages) => inBackoff(messages) !== undefined);
    expect(inBackoff(stream.messages)).toMatchObject({ lastExit: { reason: 'error' }, restartInMs: expect.any(Number) });
    expect(inBackoff(stream.messages).restartInMs).toBeGreaterThan(0);
    expect(inBackoff(stream.messages).restartInMs).toBeLessThanOrEqual(1_200);
    const stopping = Date.now();
    await backend.stop();
    backend = undefined;
    expect(Date.now() - stopping).toBeLessThan(5_000);
    await stream.closed;
  });

  it('a graceful restart of the http child ends the open event streams instead of waiting for them, and the observer serves again after it', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry: createTelemetry() });
    const stream = await follow(`${backend.url}/observer/events`);
    await stream.until((messages) => messages.length >= 1);
    const terminating = Date.now();
    await backend.infra.supervisor.terminateChild('http');
    // The child's shutdown is 10 s: an event stream held open would make the drain wait it out.
    expect(Date.now() - terminating).toBeLessThan(2_000);
    await stream.closed;
    await backend.infra.supervisor.restartChild('http');
    const again = await follow(`${backend.url}/observer/events`);
    await again.until((messages) => messages.length >= 1);
    expect(again.messages[0]!.event).toBe('snapshot');
    again.abort();
  });

  it('observer: false serves no /observer', async () => {
    backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 0 }, telemetry: createTelemetry(), observer: false });
    expect(backend.observer).toBeUndefined();
    expect((await get('/observer/snapshot')).status).toBe(404);
  });
});
