import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHttpPool,
  createPool,
  httpWorkerFactory,
  HttpTimeoutError,
  isHttpTimeoutError,
  poolChild,
  type HttpPoolOptions,
} from '../../src/pool/index.js';
import { ConfigError, createTelemetry, startSupervisor, type TelemetryEvent } from '../../src/index.js';

/**
 * The HTTP pool against a real `node:http` server on 127.0.0.1 (an ephemeral port): keep-alive
 * connections, a server that destroys sockets, and a server too slow for the request timeout.
 */

interface TestServer {
  server: Server;
  origin: string;
  /** TCP connections the server accepted. */
  connections(): number;
  /** Sockets open now. */
  open: Set<Socket>;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
}

function handle(request: IncomingMessage, response: ServerResponse, body: string): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  switch (url.pathname) {
    case '/destroy':
      request.socket.destroy();
      return;
    case '/slow-headers':
      setTimeout(() => response.end('late'), Number(url.searchParams.get('ms') ?? 1000));
      return;
    case '/slow-body':
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('first chunk, ');
      setTimeout(() => response.end('last chunk'), Number(url.searchParams.get('ms') ?? 1000));
      return;
    case '/echo':
      response.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'test' });
      response.end(JSON.stringify({ method: request.method, query: Object.fromEntries(url.searchParams), body, header: request.headers['x-test'] ?? null }));
      return;
    case '/missing':
      response.writeHead(404);
      response.end('not here');
      return;
    default:
      response.end(`ok ${url.pathname}`);
  }
}

async function startServer(): Promise<TestServer> {
  const seen: string[] = [];
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => handle(request, response, body));
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    connections += 1;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, connections: () => connections, open, seen };
}

let target: TestServer;
const pools: Array<{ stop(): Promise<void> }> = [];

beforeEach(async () => {
  target = await startServer();
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  target.server.closeAllConnections();
  await new Promise((resolve) => target.server.close(resolve));
});

async function httpPool(options: Partial<HttpPoolOptions> = {}) {
  const telemetry = createTelemetry();
  const events: TelemetryEvent[] = [];
  telemetry.select('pool').subscribe((event) => events.push(event));
  const pool = await createHttpPool({ name: 'api', origin: target.origin, size: 2, maxOverflow: 0, telemetry, ...options });
  pools.push(pool);
  const exits = () => events.filter((event) => event.name === 'pool.worker.exit').map((event) => event.metadata);
  return { pool, events, exits };
}

const settle = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('requests over keep-alive', () => {
  it('sequential requests reuse one connection', async () => {
    const { pool } = await httpPool();
    for (let index = 0; index < 20; index += 1) {
      const response = await pool.request({ path: `/n${index}` });
      expect(response.statusCode).toBe(200);
      expect(response.text()).toBe(`ok /n${index}`);
    }
    expect(target.connections()).toBe(1);
    expect(pool.status()).toEqual({ state: 'ready', idle: 2, overflow: 0, checkedOut: 0, waiting: 0 });
  });

  it('concurrent requests use at most one connection per worker', async () => {
    const { pool } = await httpPool({ size: 3 });
    const responses = await Promise.all(Array.from({ length: 30 }, (_, index) => pool.request({ path: `/c${index}` })));
    expect(responses.map((response) => response.statusCode)).toEqual(Array(30).fill(200));
    expect(target.connections()).toBe(3);
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
});

describe('a connection the server closes', () => {
  it('mid-request: the request fails, the worker exits and is replaced, the next request works', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    await pool.request({ path: '/warm' });
    const error = await pool.request({ path: '/destroy' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(exits()).toEqual([{ pool: 'api', reason: 'disconnected' }]);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    expect((await pool.request({ path: '/after' })).text()).toBe('ok /after');
    expect(target.connections()).toBe(2);
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

describe('a slow server', () => {
  it('trips the request timeout with HttpTimeoutError on time, and the pool stays healthy', async () => {
    const { pool, exits } = await httpPool({ size: 1, requestTimeoutMs: 150 });
    const startedAt = performance.now();
    const error = await pool.request({ path: '/slow-headers?ms=2000' }).catch((caught: unknown) => caught);
    const elapsed = performance.now() - startedAt;
    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect(isHttpTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', pool: 'api', origin: target.origin, phase: 'request', timeoutMs: 150 });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1000);
    expect(exits()).toEqual([{ pool: 'api', reason: 'timeout' }]);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    expect((await pool.request({ path: '/fast' })).text()).toBe('ok /fast');
  });

  it('a body that stalls trips the deadline too', async () => {
    const { pool } = await httpPool({ size: 1, requestTimeoutMs: 150 });
    await expect(pool.request({ path: '/slow-body?ms=2000' })).rejects.toMatchObject({ code: 'ERR_HTTP_TIMEOUT', phase: 'request' });
    expect((await pool.request({ path: '/fast' })).statusCode).toBe(200);
  });

  it('a per-request timeoutMs overrides the pool`s', async () => {
    const { pool } = await httpPool({ size: 1, requestTimeoutMs: 5000 });
    await expect(pool.request({ path: '/slow-headers?ms=2000', timeoutMs: 50 })).rejects.toMatchObject({ timeoutMs: 50 });
  });

  it('undici`s body inactivity timeout is reported as phase body', async () => {
    // undici checks headersTimeout and bodyTimeout on a coarse (~1 s) timer.
    const { pool } = await httpPool({ size: 1, requestTimeoutMs: 10_000, bodyTimeoutMs: 100 });
    const error = await pool.request({ path: '/slow-body?ms=5000' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', phase: 'body', timeoutMs: 100 });
    expect((error as HttpTimeoutError).cause).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    expect((await pool.request({ path: '/fast' })).statusCode).toBe(200);
  });
});

describe('aborting a request', () => {
  it('rejects with the signal`s reason and replaces the client', async () => {
    const { pool, exits } = await httpPool({ size: 1 });
    const controller = new AbortController();
    const pending = pool.request({ path: '/slow-headers?ms=2000', signal: controller.signal });
    await settle();
    const reason = new Error('caller left');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(exits()).toEqual([{ pool: 'api', reason: 'request_failed' }]);
    expect((await pool.request({ path: '/fast' })).statusCode).toBe(200);
  });
});

describe('httpWorkerFactory on its own', () => {
  it('works with createPool and transaction', async () => {
    const pool = await createPool({ name: 'raw', size: 1, maxOverflow: 0, worker: httpWorkerFactory({ origin: target.origin }) });
    pools.push(pool);
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
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    expect(() => httpWorkerFactory({ origin: target.origin, headersTimeoutMs: -1 })).toThrow(expect.objectContaining({ option: 'headersTimeoutMs' }));
  });
});
