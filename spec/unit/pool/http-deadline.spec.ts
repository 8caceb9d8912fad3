import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpPool, HttpTimeoutError, type HttpPool, type HttpPoolOptions } from '../../../src/pool/index.js';
import { createTestClock, createTelemetry, isConfigError, isOverseerError, type TelemetryEvent, type TestClock } from '../../../src/index.js';
import { rejectionOf, startHttpServer, within, type TestHttpServer } from '../../support/http-servers.js';

/**
 * The deadline of `request()` on an injected test clock, against a real `node:http` server on
 * 127.0.0.1 (an ephemeral port): the deadline is a timer on the pool's clock armed at the call,
 * so it fires exactly when the clock says, whatever the socket is doing, and the error states
 * the limit and the time that really passed. The only real waits are for the server to see a
 * request (`expect.poll`) and for sockets to close.
 */

let target: TestHttpServer;
let clock: TestClock;
const pools: HttpPool[] = [];

beforeEach(async () => {
  target = await startHttpServer();
  clock = createTestClock();
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  await target.close();
});

async function httpPool(options: Partial<HttpPoolOptions> = {}) {
  const telemetry = createTelemetry();
  const events: TelemetryEvent[] = [];
  telemetry.select('pool.worker.exit').subscribe((event) => events.push(event));
  const pool = await createHttpPool({ name: 'api', origin: target.origin, size: 1, maxOverflow: 0, clock, telemetry, ...options });
  pools.push(pool);
  return { pool, exits: () => events.map((event) => event.metadata.reason) };
}

/** Lets promise callbacks and socket events run; no time passes on the test clock. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A request's promise plus whether it has settled yet. */
function watch<T>(promise: Promise<T>): { settled: () => boolean; error: Promise<unknown> } {
  let settled = false;
  const error = rejectionOf(promise.finally(() => (settled = true)));
  return { settled: () => settled, error };
}

async function expectIdleAndClosed(pool: HttpPool): Promise<void> {
  await expect.poll(() => pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
  await expect.poll(() => target.open.size).toBe(0);
}

describe('the deadline of request()', () => {
  it('fires on the pool`s clock exactly timeoutMs after the call, and the error states the limit and the time passed', async () => {
    const { pool, exits } = await httpPool({ requestTimeoutMs: 250 });
    const request = watch(pool.request({ path: '/never' }));
    await expect.poll(() => target.seen).toEqual(['GET /never']);
    clock.advance(249);
    await turn();
    expect(request.settled()).toBe(false);
    clock.advance(1);
    const error = await request.error;
    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect(error).toMatchObject({ phase: 'request', timeoutMs: 250, elapsedMs: 250 });
    expect((error as Error).message).toBe(`pool 'api': request to ${target.origin} timed out (deadline 250 ms); gave up after 250 ms`);
    expect(exits()).toEqual(['timeout']);
    await expectIdleAndClosed(pool);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('counts the wait for a worker: it runs from the call, not from sending', async () => {
    const { pool } = await httpPool({ requestTimeoutMs: 250 });
    const holder = await pool.checkout();
    const request = watch(pool.request({ path: '/never' }));
    clock.advance(100);
    holder.release();
    await expect.poll(() => target.seen).toEqual(['GET /never']);
    clock.advance(149);
    await turn();
    expect(request.settled()).toBe(false);
    clock.advance(1);
    expect(await request.error).toMatchObject({ phase: 'request', timeoutMs: 250, elapsedMs: 250 });
    await expectIdleAndClosed(pool);
  });

  it('fired while waiting for a worker withdraws the checkout; nothing is sent and no worker is lost', async () => {
    const { pool, exits } = await httpPool({ requestTimeoutMs: 250, checkoutTimeoutMs: 10_000 });
    const holder = await pool.checkout();
    const request = watch(pool.request({ path: '/queued' }));
    expect(pool.status().waiting).toBe(1);
    clock.advance(250);
    expect(await within(request.error, 2000, 'the request waiting for a worker')).toMatchObject({ phase: 'request', timeoutMs: 250, elapsedMs: 250 });
    expect(pool.status().waiting).toBe(0);
    holder.release();
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    expect(target.seen).toEqual([]);
    expect(exits()).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a per-request timeoutMs longer than the pool`s replaces it, undici`s timeouts included', async () => {
    const { pool, exits } = await httpPool({ requestTimeoutMs: 100 });
    const pending = pool.request({ path: '/slow-headers?ms=1200', timeoutMs: 5000 });
    await expect.poll(() => target.seen).toEqual(['GET /slow-headers?ms=1200']);
    clock.advance(4999);
    // The headers come 1.2 s later in real time: nothing may time them out on the pool's 100 ms.
    expect((await pending).text()).toBe('late');
    expect(exits()).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a request undici refuses as malformed rejects with a ConfigError (an overseer error) whose cause is undici’s error, and keeps its client', async () => {
    const { pool, exits } = await httpPool({ requestTimeoutMs: 250 });
    for (const options of [{ path: 'no-slash' }, { path: '/ok', method: 'GE T' }]) {
      const error = await rejectionOf(pool.request(options));
      expect(isOverseerError(error), String(error)).toBe(true);
      expect(isConfigError(error)).toBe(true);
      expect(error).toMatchObject({ option: 'options', value: options, cause: { code: 'UND_ERR_INVALID_ARG' } });
    }
    expect(target.seen).toEqual([]);
    expect(exits()).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('leaves no timer on the clock once a request is answered, refused or aborted', async () => {
    const { pool } = await httpPool({ requestTimeoutMs: 250 });
    expect((await pool.request({ path: '/ok' })).text()).toBe('ok /ok');
    expect(clock.pendingTimers()).toBe(0);
    await expect(pool.request({ path: 'no-slash' })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
    expect(clock.pendingTimers()).toBe(0);
    const controller = new AbortController();
    const aborted = rejectionOf(pool.request({ path: '/never', signal: controller.signal }));
    await expect.poll(() => target.seen).toContain('GET /never');
    controller.abort(new Error('left'));
    expect(await aborted).toMatchObject({ message: 'left' });
    expect(clock.pendingTimers()).toBe(0);
    await expectIdleAndClosed(pool);
  });
});

describe('request() and the pool stopping', () => {
  it('a request waiting for a worker when the pool stops rejects with PoolStoppedError and leaves no timer', async () => {
    const { pool } = await httpPool({ requestTimeoutMs: 250 });
    await pool.checkout();
    const request = watch(pool.request({ path: '/queued' }));
    await pool.stop();
    expect(await request.error).toMatchObject({ code: 'ERR_POOL_STOPPED' });
    expect(clock.pendingTimers()).toBe(0);
    await expect(pool.request({ path: '/late' })).rejects.toMatchObject({ code: 'ERR_POOL_STOPPED' });
    expect(clock.pendingTimers()).toBe(0);
    expect(target.seen).toEqual([]);
  });
});
