import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHttpPool,
  createPool,
  httpWorkerFactory,
  HttpTimeoutError,
  isHttpTimeoutError,
  poolChild,
  type HttpPool,
  type HttpPoolOptions,
} from '../../src/pool/index.js';
import { ConfigError, createTelemetry, startSupervisor, type TelemetryEvent } from '../../src/index.js';
import { rejectionOf, startHttpServer, startSilentTlsServer, within, type Connections, type TestHttpServer } from '../support/http-servers.js';

/**
 * The HTTP pool against real servers on 127.0.0.1 (ephemeral ports), started and closed by each
 * spec: a `node:http` server with keep-alive connections and paths that misbehave (close, reset,
 * never answer, stall, stream for ever, send a large body), and a raw TCP server that never
 * answers a TLS ClientHello. Deadlines are short (150–500 ms) and checked against the wall clock
 * within a tolerance; after each failure the pool is back to idle and the server saw the
 * connection closed.
 */

/** How late a real timer may fire on a loaded 2-core machine. */
const lateToleranceMs = 250;
/** How early: libuv arms a timer from the loop's time, cached when the current turn of the loop began. */
const earlyToleranceMs = 20;

let target: TestHttpServer;
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  target = await startHttpServer();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await target.close();
});

async function httpPool(options: Partial<HttpPoolOptions> = {}) {
  const telemetry = createTelemetry();
  const events: TelemetryEvent[] = [];
  telemetry.select('pool').subscribe((event) => events.push(event));
  const pool = await createHttpPool({ name: 'api', origin: target.origin, size: 2, maxOverflow: 0, telemetry, ...options });
  closers.push(() => pool.stop());
  const exits = () => events.filter((event) => event.name === 'pool.worker.exit').map((event) => event.metadata);
  return { pool, telemetry, events, exits };
}

/** Idle with all `size` workers, and every connection but `open` closed on the server's side. */
async function expectClean(pool: HttpPool, size: number, server: Connections = target, open = 0): Promise<void> {
  await expect.poll(() => pool.status()).toEqual({ state: 'ready', idle: size, overflow: 0, checkedOut: 0, waiting: 0 });
  await expect.poll(() => server.open.size).toBe(open);
}

/** The rejection of the request `call` makes, and how long after the call (wall clock) it came. */
async function timed(call: () => Promise<unknown>): Promise<{ error: unknown; elapsed: number }> {
  const startedAt = performance.now();
  const error = await rejectionOf(call());
  return { error, elapsed: performance.now() - startedAt };
}

/** `error` is the deadline's HttpTimeoutError, fired on time and stating when it fired. */
function expectDeadline(error: unknown, elapsed: number, timeoutMs: number): void {
  expect(error).toBeInstanceOf(HttpTimeoutError);
  expect(error).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', pool: 'api', phase: 'request', timeoutMs });
  const stated = (error as HttpTimeoutError).elapsedMs;
  expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - earlyToleranceMs);
  expect(elapsed).toBeLessThan(timeoutMs + lateToleranceMs);
  expect(stated).toBeGreaterThanOrEqual(timeoutMs - earlyToleranceMs);
  expect(stated).toBeLessThanOrEqual(elapsed + 5);
  expect((error as Error).message).toContain(`after ${Math.round(stated)} ms`);
  expect((error as Error).message).toContain(`deadline ${timeoutMs} ms`);
}

describe('requests over keep-alive', () => {
  it('sequential requests reuse one connection', async () => {
    const { pool } = await httpPool();
    for (let index = 0; index < 20; index += 1) {
      const response = await pool.request({ path: `/n${index}` });
      expect(response.statusCode).toBe(200);
      expect(response.text()).toBe(`ok /n${index}`);
    }
    expect(target.accepted()).toBe(1);
    expect(pool.status()).toEqual({ state: 'ready', idle: 2, overflow: 0, checkedOut: 0, waiting: 0 });
  });

  it('concurrent requests use at most one connection per worker', async () => {
    const { pool } = await httpPool({ size: 3 });
    const responses = await Promise.all(Array.from({ length: 30 }, (_, index) => pool.request({ path: `/c${index}` })));
    expect(responses.map((response) => response.statusCode)).toEqual(Array(30).fill(200));
    expect(target.accepted()).toBe(3);
  });

  it('sends method, headers, query and body; reads JSON; a 404 is a response', async () => {
    const { pool } = await httpPool();
    const response = await pool.request({ path: '/echo', method: 'POST', headers: { 'x-test': 'yes' }, query: { a: 1 }, body: 'payload' });
    expect(response.headers['x-served-by']).toBe('test');
    expect(response.json()).toEqual({ method: 'POST', query: { a: '1' }, body: 'payload', header: 'yes' });
    const missing = await pool.request({ path: '/missing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.text()).toBe('not here');
    expect(pool.status().idle).toBe(2);
  });

  it('a large body read by request() leaves its client reusable', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    const response = await pool.request({ path: '/large' });
    expect(response.body.length).toBe(512 * 1024);
    expect((await pool.request({ path: '/next' })).text()).toBe('ok /next');
    expect(exits()).toEqual([]);
    expect(target.accepted()).toBe(1);
  });

  it('a path undici refuses rejects with a ConfigError (the refusal of undici its cause) without sending and keeps the client', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    await expect(pool.request({ path: 'no-slash' })).rejects.toMatchObject({ code: 'ERR_CONFIG', cause: { code: 'UND_ERR_INVALID_ARG' } });
    expect(exits()).toEqual([]);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });
});

describe('a connection the server closes', () => {
  it('mid-request: the request fails, the worker exits disconnected and is replaced, the next request works', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    await pool.request({ path: '/warm' });
    const error = await pool.request({ path: '/destroy' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(exits()).toEqual([{ pool: 'api', reason: 'disconnected' }]);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    expect((await pool.request({ path: '/after' })).text()).toBe('ok /after');
    expect(target.accepted()).toBe(2);
  });

  it('a connection the server resets exits its worker with reason reset', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    await pool.request({ path: '/warm' });
    const error = await rejectionOf(pool.request({ path: '/reset' }));
    expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect(exits()).toEqual([{ pool: 'api', reason: 'reset' }]);
    await expectClean(pool, 1);
    expect((await pool.request({ path: '/after' })).text()).toBe('ok /after');
  });

  it('while idle: the worker exits and is replaced before anyone asks for it', async () => {
    const { pool, exits } = await httpPool({ size: 2 });
    const [first, second] = await Promise.all([pool.checkout(), pool.checkout()]);
    await first!.worker.request({ path: '/a', method: 'GET' }).then((response) => response.body.text());
    const idleClient = first!.worker;
    first!.release();
    second!.release();
    target.server.closeAllConnections();
    await expect.poll(() => exits().length).toBe(1);
    expect(exits()).toEqual([{ pool: 'api', reason: 'disconnected' }]);
    expect(pool.status()).toEqual({ state: 'ready', idle: 2, overflow: 0, checkedOut: 0, waiting: 0 });
    const leases = await Promise.all([pool.checkout(), pool.checkout()]);
    expect(leases.map((lease) => lease.worker)).not.toContain(idleClient);
    leases.forEach((lease) => lease.release());
    expect((await pool.request({ path: '/b' })).statusCode).toBe(200);
  });
});

describe('the deadline holds from the call, whatever undici is doing', () => {
  it('a lease released with a large response body unread retires its client, and the next request is answered', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 500 });
    const status = await pool.transaction(async (client) => (await client.request({ path: '/large', method: 'GET' })).statusCode);
    expect(status).toBe(200);
    const response = await within(pool.request({ path: '/after', timeoutMs: 500 }), 2000, 'the request after an unread body');
    expect(response.text()).toBe('ok /after');
    expect(exits()).toEqual([{ pool: 'api', reason: 'unfinished_request' }]);
    // The unread body's connection is closed; the replacement's stays open for reuse.
    await expectClean(pool, 1, target, 1);
    expect(target.accepted()).toBe(2);
  });

  it('a plain createPool of httpWorkerFactory clients retires a client released with a large body unread too', async () => {
    const telemetry = createTelemetry();
    const exits: unknown[] = [];
    telemetry.select('pool.worker.exit').subscribe((event) => exits.push(event.metadata));
    const pool = await createPool({ name: 'plain', size: 1, maxOverflow: 0, worker: httpWorkerFactory({ origin: target.origin }), telemetry });
    closers.push(() => pool.stop());
    await pool.transaction(async (client) => (await client.request({ path: '/large', method: 'GET' })).statusCode);
    const next = pool.transaction(async (client) => (await client.request({ path: '/after', method: 'GET' })).body.text());
    expect(await within(next, 2000, 'the request after an unread body')).toBe('ok /after');
    expect(exits).toEqual([{ pool: 'plain', reason: 'unfinished_request' }]);
  });

  it('a lease released with a small body unread keeps its client: undici has read it all', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    await pool.transaction(async (client) => (await client.request({ path: '/small', method: 'GET' })).statusCode);
    expect((await pool.request({ path: '/after' })).text()).toBe('ok /after');
    expect(exits()).toEqual([]);
    expect(target.accepted()).toBe(1);
  });

  it('a request whose TLS handshake never completes rejects at its deadline, not at connectTimeoutMs', async () => {
    const silent = await startSilentTlsServer();
    closers.unshift(() => silent.close());
    const { pool, exits } = await httpPool({ origin: silent.origin, size: 1, requestTimeoutMs: 300, connectTimeoutMs: 3000 });
    const { error, elapsed } = await timed(() => pool.request({ path: '/' }));
    expectDeadline(error, elapsed, 300);
    expect(silent.received()).toBeGreaterThan(0);
    expect(exits()).toEqual([{ pool: 'api', reason: 'timeout' }]);
    await expectClean(pool, 1, silent);
  });

  it('a server that never sends headers: the request rejects at its deadline and its connection is closed', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 300 });
    const { error, elapsed } = await timed(() => pool.request({ path: '/never' }));
    expectDeadline(error, elapsed, 300);
    expect(target.seen).toEqual(['GET /never']);
    expect(exits()).toEqual([{ pool: 'api', reason: 'timeout' }]);
    await expectClean(pool, 1);
    expect((await pool.request({ path: '/fast' })).text()).toBe('ok /fast');
  });

  it('a body that never ends (data keeps coming) rejects at the deadline and its connection is closed', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 400 });
    const { error, elapsed } = await timed(() => pool.request({ path: '/endless' }));
    expectDeadline(error, elapsed, 400);
    expect(exits()).toEqual([{ pool: 'api', reason: 'timeout' }]);
    await expectClean(pool, 1);
  });

  it('the wait for a worker counts against the deadline', async () => {
    const { pool } = await httpPool({ size: 1, requestTimeoutMs: 300 });
    const holder = await pool.checkout();
    setTimeout(() => holder.release(), 150);
    const { error, elapsed } = await timed(() => pool.request({ path: '/slow-headers?ms=250' }));
    expectDeadline(error, elapsed, 300);
    await expectClean(pool, 1);
  });

  it('trips the request timeout with HttpTimeoutError on time, and the pool stays healthy', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 150 });
    const { error, elapsed } = await timed(() => pool.request({ path: '/slow-headers?ms=2000' }));
    expectDeadline(error, elapsed, 150);
    expect(isHttpTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ origin: target.origin });
    expect(exits()).toEqual([{ pool: 'api', reason: 'timeout' }]);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    expect((await pool.request({ path: '/fast' })).text()).toBe('ok /fast');
  });

  it('a body that stalls trips the deadline too', async () => {
    const { pool } = await httpPool({ size: 1, requestTimeoutMs: 150 });
    await expect(pool.request({ path: '/slow-body?ms=2000' })).rejects.toMatchObject({ code: 'ERR_HTTP_TIMEOUT', phase: 'request' });
    expect((await pool.request({ path: '/fast' })).statusCode).toBe(200);
  });

  it('stopping the pool settles a request in flight at once', async () => {
    const { pool } = await httpPool({ size: 1, requestTimeoutMs: 5000 });
    const pending = rejectionOf(pool.request({ path: '/never' }));
    await expect.poll(() => target.seen).toEqual(['GET /never']);
    await pool.stop();
    await within(pending, 1000, 'the request in flight at stop');
    await expect.poll(() => target.open.size).toBe(0);
  });
});

describe('per-request timeouts', () => {
  it('a per-request timeoutMs shorter than the pool`s holds', async () => {
    const { pool } = await httpPool({ size: 1, requestTimeoutMs: 5000 });
    const { error, elapsed } = await timed(() => pool.request({ path: '/slow-headers?ms=2000', timeoutMs: 200 }));
    expectDeadline(error, elapsed, 200);
  });

  it('a per-request timeoutMs longer than the pool`s requestTimeoutMs holds while waiting for headers', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 200 });
    const response = await pool.request({ path: '/slow-headers?ms=1200', timeoutMs: 3000 });
    expect(response.text()).toBe('late');
    expect(exits()).toEqual([]);
  });

  it('a per-request timeoutMs longer than the pool`s requestTimeoutMs holds while the body pauses', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 200 });
    const response = await pool.request({ path: '/slow-body?ms=1200', timeoutMs: 3000 });
    expect(response.text()).toBe('first chunk, last chunk');
    expect(exits()).toEqual([]);
  });
});

describe('undici`s inactivity timeouts', () => {
  it('a headers timeout exits its worker with reason timeout, and the error states when it fired', async () => {
    // undici checks headersTimeout and bodyTimeout on a coarse (~0.5–1 s) timer.
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 5000, headersTimeoutMs: 100 });
    const { error, elapsed } = await timed(() => pool.request({ path: '/never' }));
    expect(error).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', phase: 'headers', timeoutMs: 100 });
    expect((error as HttpTimeoutError).cause).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    const stated = (error as HttpTimeoutError).elapsedMs;
    expect(stated).toBeGreaterThanOrEqual(100);
    expect(Math.abs(stated - elapsed)).toBeLessThan(20);
    expect((error as Error).message).toContain(`within 100 ms`);
    expect((error as Error).message).toContain(`after ${Math.round(stated)} ms`);
    expect(exits()).toEqual([{ pool: 'api', reason: 'timeout' }]);
    await expectClean(pool, 1);
  });

  it('a body timeout is reported as phase body and exits its worker with reason timeout', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 10_000, bodyTimeoutMs: 100 });
    const { error, elapsed } = await timed(() => pool.request({ path: '/slow-body?ms=5000' }));
    expect(error).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', phase: 'body', timeoutMs: 100 });
    expect((error as HttpTimeoutError).cause).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    expect(Math.abs((error as HttpTimeoutError).elapsedMs - elapsed)).toBeLessThan(20);
    expect(exits()).toEqual([{ pool: 'api', reason: 'timeout' }]);
    await expectClean(pool, 1);
    expect((await pool.request({ path: '/fast' })).statusCode).toBe(200);
  });
});

describe('aborting a request', () => {
  it('a signal aborted before the call: nothing is sent, the request rejects with its reason', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    const reason = new Error('caller left early');
    await expect(pool.request({ path: '/early', signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(target.seen).toEqual([]);
    expect(exits()).toEqual([]);
    await expectClean(pool, 1);
  });

  it('a signal aborted while waiting for a worker withdraws the checkout; nothing is sent', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    const holder = await pool.checkout();
    const controller = new AbortController();
    const pending = rejectionOf(pool.request({ path: '/queued', signal: controller.signal }));
    expect(pool.status().waiting).toBe(1);
    const reason = new Error('caller left while queued');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(pool.status().waiting).toBe(0);
    holder.release();
    expect(target.seen).toEqual([]);
    expect(exits()).toEqual([]);
    await expectClean(pool, 1);
  });

  it('a signal aborted between checkout and send stops the request before it is sent and keeps the client', async () => {
    const { pool, telemetry, exits } = await httpPool({ size: 1 });
    const controller = new AbortController();
    const reason = new Error('caller left after checkout');
    telemetry.select('pool.checkout').subscribe((event) => {
      if (event.metadata.outcome === 'ok') controller.abort(reason);
    });
    await expect(pool.request({ path: '/between', signal: controller.signal })).rejects.toBe(reason);
    expect(target.seen).toEqual([]);
    expect(exits()).toEqual([]);
    await expectClean(pool, 1);
  });

  it('a signal aborted while waiting for headers rejects with its reason and replaces the client', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    const controller = new AbortController();
    const pending = rejectionOf(pool.request({ path: '/slow-headers?ms=2000', signal: controller.signal }));
    await expect.poll(() => target.seen).toEqual(['GET /slow-headers?ms=2000']);
    const reason = new Error('caller left');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(exits()).toEqual([{ pool: 'api', reason: 'aborted' }]);
    await expectClean(pool, 1);
    expect((await pool.request({ path: '/fast' })).statusCode).toBe(200);
  });

  it('a signal aborted mid-body rejects with its reason and closes the connection', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    const controller = new AbortController();
    const pending = rejectionOf(pool.request({ path: '/endless', signal: controller.signal }));
    await expect.poll(() => target.seen).toEqual(['GET /endless']);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const reason = new Error('caller left mid-body');
    const startedAt = performance.now();
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(performance.now() - startedAt).toBeLessThan(50);
    expect(exits()).toEqual([{ pool: 'api', reason: 'aborted' }]);
    await expectClean(pool, 1);
  });
});

describe('httpWorkerFactory on its own', () => {
  it('works with createPool and transaction', async () => {
    const pool = await createPool({ name: 'raw', size: 1, maxOverflow: 0, worker: httpWorkerFactory({ origin: target.origin }) });
    closers.push(() => pool.stop());
    const text = await pool.transaction(async (client) => (await client.request({ path: '/t', method: 'GET' })).body.text());
    expect(text).toBe('ok /t');
  });

  it('runs under a supervisor through poolChild; stopping it closes the connections', async () => {
    const child = poolChild({ name: 'api', size: 2, maxOverflow: 0, worker: httpWorkerFactory({ origin: target.origin }), shutdown: 1000 });
    const supervisor = await startSupervisor({ children: [child] });
    await child.pool!.transaction(async (client) => (await client.request({ path: '/s', method: 'GET' })).body.text());
    expect(target.open.size).toBe(1);
    await supervisor.stop();
    await expect.poll(() => target.open.size).toBe(0);
  });

  it.each([
    ['a path', 'http://127.0.0.1:1/api'],
    ['another protocol', 'ftp://127.0.0.1'],
    ['not a URL', 'localhost:80'],
  ])('rejects an origin with %s with ConfigError', (_, origin) => {
    expect(() => httpWorkerFactory({ origin })).toThrow(ConfigError);
  });

  it('rejects a bad timeout with ConfigError naming it', async () => {
    await expect(createHttpPool({ name: 'x', origin: target.origin, requestTimeoutMs: 0 })).rejects.toMatchObject({ option: 'requestTimeoutMs' });
    // Node's timers fire a longer delay after 1 ms.
    await expect(createHttpPool({ name: 'x', origin: target.origin, requestTimeoutMs: 2 ** 31 })).rejects.toMatchObject({ option: 'requestTimeoutMs' });
    const { pool } = await httpPool({ size: 1 });
    await expect(pool.request({ path: '/', timeoutMs: Number.POSITIVE_INFINITY })).rejects.toBeInstanceOf(ConfigError);
    await expect(pool.request({ path: '/', signal: 'stop' as unknown as AbortSignal })).rejects.toMatchObject({ option: 'signal' });
    await expect(pool.request(undefined as never)).rejects.toBeInstanceOf(ConfigError);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    expect(target.seen).toEqual([]);
    expect(() => httpWorkerFactory({ origin: target.origin, headersTimeoutMs: -1 })).toThrow(expect.objectContaining({ option: 'headersTimeoutMs' }));
  });
});
