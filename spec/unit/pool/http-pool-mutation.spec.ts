import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHttpPool, httpWorkerFactory, type HttpPool, type HttpPoolOptions } from '../../../src/pool/index.js';
import { abandonableConnector } from '../../../src/pool/http-connector.js';
import { createTelemetry, createTestClock, type TelemetryEvent } from '../../../src/index.js';
import { rejectionOf, startHttpServer, startSilentTlsServer, within, type TestHttpServer } from '../../support/http-servers.js';

/** Option validation of the HTTP pool and its worker factory, the worker's client and connector, against loopback servers only. */

const maxTimerMs = 2 ** 31 - 1;
const pools: HttpPool[] = [];
const servers: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(): Promise<TestHttpServer> {
  const started = await startHttpServer();
  servers.push(started);
  return started;
}

async function httpPool(options: Partial<HttpPoolOptions> & { origin: string }) {
  const telemetry = createTelemetry();
  const events: TelemetryEvent[] = [];
  telemetry.select('pool.worker.exit').subscribe((event) => events.push(event));
  const pool = await createHttpPool({ name: 'api', size: 1, maxOverflow: 0, telemetry, ...options });
  pools.push(pool);
  return { pool, exits: () => events.map((event) => event.metadata.reason) };
}

function factoryRefusal(options: unknown): { option: string; message: string; cause: unknown } {
  try {
    httpWorkerFactory(options as never);
  } catch (error) {
    expect(error).toMatchObject({ code: 'ERR_CONFIG' });
    return error as never;
  }
  throw new Error('expected a ConfigError');
}

const origin = 'http://127.0.0.1:9';

describe('httpWorkerFactory options', () => {
  it('builds a factory from a string origin, a URL origin, http or https', () => {
    expect(typeof httpWorkerFactory({ origin }).create).toBe('function');
    expect(typeof httpWorkerFactory({ origin: new URL('https://127.0.0.1:8443') }).create).toBe('function');
    expect(typeof httpWorkerFactory({ origin: 'https://127.0.0.1' }).destroy).toBe('function');
  });

  it('refuses options that are not an object', () => {
    expect(factoryRefusal(null).option).toBe('options');
  });

  it.each([
    ['another protocol', 'ftp://127.0.0.1'],
    ['a path', 'http://127.0.0.1/api'],
    ['a query', 'http://127.0.0.1/?a=1'],
    ['a fragment', 'http://127.0.0.1/#x'],
    ['a number', 42],
  ])('refuses an origin with %s', (_, value) => {
    const error = factoryRefusal({ origin: value });
    expect(error.option).toBe('origin');
    expect(error.message).toMatch(/^Invalid option origin: expected an http: or https: origin without a path, e\.g\. 'http:\/\/127\.0\.0\.1:8080', got /);
    expect(error.cause).toBeUndefined();
  });

  it('refuses a string that is not a URL, keeping the parser`s error as cause', () => {
    const error = factoryRefusal({ origin: 'not a url' });
    expect(error.option).toBe('origin');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it.each(['headersTimeoutMs', 'bodyTimeoutMs', 'keepAliveTimeoutMs', 'connectTimeoutMs'])('%s takes the longest timer, refuses 0 and longer', (option) => {
    expect(() => httpWorkerFactory({ origin, [option]: maxTimerMs })).not.toThrow();
    for (const value of [0, maxTimerMs + 1]) {
      const error = factoryRefusal({ origin, [option]: value });
      expect(error.option).toBe(option);
      expect(error.message).toBe(`Invalid option ${option}: expected a number of ms > 0 and <= ${maxTimerMs}, got ${value}`);
    }
    expect(factoryRefusal({ origin, [option]: -1 }).option).toBe(option);
  });

  it('refuses a pipelining below 1 naming it', () => {
    expect(factoryRefusal({ origin, pipelining: 0 }).option).toBe('pipelining');
  });
});

describe('createHttpPool options and request() arguments', () => {
  it('refuses bad pool options naming them', async () => {
    expect(await rejectionOf(createHttpPool(null as never))).toMatchObject({ code: 'ERR_CONFIG', option: 'options' });
    expect(await rejectionOf(createHttpPool({ name: 'api', origin, requestTimeoutMs: 0 } as never))).toMatchObject({ option: 'requestTimeoutMs' });
    expect(await rejectionOf(createHttpPool({ name: 'api', origin, requestTimeoutMs: maxTimerMs + 1 } as never))).toMatchObject({ option: 'requestTimeoutMs' });
    expect(await rejectionOf(createHttpPool({ name: 'api', origin: 'http://127.0.0.1/x' } as never))).toMatchObject({ option: 'origin' });
  });

  it('refuses bad request() arguments naming them, sending nothing', async () => {
    const target = await server();
    const { pool } = await httpPool({ origin: target.origin });
    expect(pool.origin).toBe(target.origin);
    expect(await rejectionOf(pool.request(null as never))).toMatchObject({ code: 'ERR_CONFIG', option: 'options' });
    expect(await rejectionOf(pool.request({ path: '/', timeoutMs: 0 }))).toMatchObject({ option: 'timeoutMs' });
    expect(await rejectionOf(pool.request({ path: '/', signal: 'x' as never }))).toMatchObject({ option: 'signal' });
    expect(target.seen).toEqual([]);
  });
});

describe('the clients', () => {
  it('without bodyTimeoutMs, a slow body is bounded only by the deadline on the pool`s clock', async () => {
    const target = await server();
    const { pool } = await httpPool({ origin: target.origin, clock: createTestClock(), requestTimeoutMs: 100 });
    const answer = await within(pool.request({ path: '/slow-body?ms=1500' }), 4000, 'slow body');
    expect(answer.text()).toBe('first chunk, last chunk');
  });

  it('without headersTimeoutMs, slow headers are bounded only by the deadline on the pool`s clock', async () => {
    const target = await server();
    const { pool } = await httpPool({ origin: target.origin, clock: createTestClock(), requestTimeoutMs: 100 });
    const answer = await within(pool.request({ path: '/slow-headers?ms=1500' }), 4000, 'slow headers');
    expect(answer.text()).toBe('late');
  });

  it('a bodyTimeoutMs set on the pool is enforced by undici per request', async () => {
    const target = await server();
    const { pool } = await httpPool({ origin: target.origin, clock: createTestClock(), bodyTimeoutMs: 100 });
    const error = await within(rejectionOf(pool.request({ path: '/slow-body?ms=1500' })), 3000, 'body timeout');
    expect(error).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', phase: 'body', timeoutMs: 100 });
  });

  it('connectTimeoutMs bounds a TLS handshake that never completes', async () => {
    const silent = await startSilentTlsServer();
    servers.push(silent);
    const { pool } = await httpPool({ origin: silent.origin, connectTimeoutMs: 200, requestTimeoutMs: 20_000 });
    const error = await within(rejectionOf(pool.request({ path: '/' })), 3000, 'connect timeout');
    expect(error).toMatchObject({ code: 'UND_ERR_CONNECT_TIMEOUT' });
  });

  it('a connection the server closes retires its client as disconnected', async () => {
    const target = await server();
    const { pool, exits } = await httpPool({ origin: target.origin });
    expect((await pool.request({ path: '/first' })).text()).toBe('ok /first');
    for (const socket of target.open) socket.destroy();
    await expect.poll(exits).toEqual(['disconnected']);
  });

  it('a client released with a response body unread is replaced as unfinished_request; a stopped pool reports no exit for its clients', async () => {
    const target = await server();
    const { pool, exits } = await httpPool({ origin: target.origin });
    const lease = await pool.checkout();
    await lease.worker.request({ path: '/large?kb=2048', method: 'GET' });
    lease.release();
    await expect.poll(exits).toEqual(['unfinished_request']);
    await pool.request({ path: '/again' });
    await pool.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exits()).toEqual(['unfinished_request']);
  });
});

describe('httpWorkerFactory workers', () => {
  it('a client the factory destroys does not exit through its context', async () => {
    const target = await server();
    const factory = httpWorkerFactory({ origin: target.origin });
    const exit = vi.fn();
    const client = await factory.create({ exit } as never);
    const answer = await client.request({ path: '/one', method: 'GET' });
    expect(await answer.body.text()).toBe('ok /one');
    await factory.destroy!(client);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exit).not.toHaveBeenCalled();
  });
});

describe('abandonableConnector', () => {
  function fakeBase() {
    const calls: Array<{ socket: unknown; done: (...outcome: unknown[]) => void }> = [];
    // A destroyed socket emits its error; the fake has no undici to listen for it.
    let next: () => unknown = () => new Socket().on('error', () => undefined);
    const base = ((_options: unknown, callback: (...outcome: unknown[]) => void) => {
      const socket = next();
      calls.push({ socket, done: callback });
      return socket;
    }) as never;
    return { base, calls, returning: (make: () => unknown) => (next = make) };
  }

  it('abandon() destroys the socket still connecting, with ClientDestroyedError, once', () => {
    const { base, calls } = fakeBase();
    const connector = abandonableConnector(base);
    connector.connect({} as never, () => undefined);
    const socket = calls[0]!.socket as Socket;
    const destroy = vi.spyOn(socket, 'destroy');
    connector.abandon();
    expect(destroy).toHaveBeenCalledTimes(1);
    expect(destroy.mock.calls[0]![0]).toMatchObject({ code: 'UND_ERR_DESTROYED' });
    connector.abandon();
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('passes the outcome on and forgets a socket once connected', () => {
    const { base, calls } = fakeBase();
    const connector = abandonableConnector(base);
    const callback = vi.fn();
    connector.connect({} as never, callback);
    const socket = calls[0]!.socket as Socket;
    const destroy = vi.spyOn(socket, 'destroy');
    calls[0]!.done(null, socket);
    expect(callback).toHaveBeenCalledWith(null, socket);
    connector.abandon();
    expect(destroy).not.toHaveBeenCalled();
  });

  it('the end of an earlier connection does not forget a later one still connecting', () => {
    const { base, calls } = fakeBase();
    const connector = abandonableConnector(base);
    connector.connect({} as never, () => undefined);
    connector.connect({} as never, () => undefined);
    const later = calls[1]!.socket as Socket;
    const destroy = vi.spyOn(later, 'destroy');
    calls[0]!.done(null, calls[0]!.socket);
    connector.abandon();
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('does nothing with nothing connecting, or when the base connector returns no socket', () => {
    const { base, returning } = fakeBase();
    const connector = abandonableConnector(base);
    expect(() => connector.abandon()).not.toThrow();
    returning(() => ({}));
    connector.connect({} as never, () => undefined);
    expect(() => connector.abandon()).not.toThrow();
  });
});
