import { describe, expect, it } from 'vitest';
import { createBreaker, createPool, createTelemetry, createTestClock, protect, type Lease, type ProtectCall } from '../../../src/index.js';
import { flush } from '../../support/supervision.js';

/** A breaker that trips on the first failure and times calls out after 50 ms, and a pool of one worker. */
async function busyChain(options: { checkoutTimeoutMs?: number } = {}) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const breaker = createBreaker({ name: 'upstream', tolerance: { failures: 0, windowMs: 60_000 }, callTimeoutMs: 50, resetMs: 1000, clock, telemetry });
  const pool = await createPool({
    name: 'conns',
    size: 1,
    maxOverflow: 0,
    checkoutTimeoutMs: options.checkoutTimeoutMs ?? 60_000,
    clock,
    telemetry,
    worker: { create: () => ({ id: 'w' }) },
  });
  const held = await pool.checkout();
  return { clock, telemetry, breaker, pool, held };
}

describe('waiting for a worker is not the call: the breaker times and counts only fn', () => {
  it('a full pool never trips the breaker, however long the wait', async () => {
    const { clock, breaker, pool, held } = await busyChain();
    const call = protect({ name: 'p', breaker, pool, clock }, (worker: { id: string }) => `ran on ${worker.id}`);
    const result = call();
    await flush();
    // 100 times the call timeout spent waiting for the only worker.
    clock.advance(5000);
    await flush();
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toMatchObject({ failures: 0, rejected: 0 });
    held.release();
    expect(await result).toBe('ran on w');
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0, waiting: 0 });
  });

  it('a pool wait that times out is a pool refusal, neutral to the breaker, even past callTimeoutMs', async () => {
    const { clock, breaker, pool, held } = await busyChain({ checkoutTimeoutMs: 500 });
    const call = protect({ name: 'p', breaker, pool, clock }, () => 'ran');
    const result = call().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    await flush();
    clock.advance(500);
    expect(await result).toBe('ERR_POOL_TIMEOUT');
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 0 });
    held.release();
  });

  it('the call timeout still applies to fn once it runs', async () => {
    const { clock, breaker, pool, held } = await busyChain();
    const call = protect({ name: 'p', breaker, pool, clock }, (_worker, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const result = call().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    await flush();
    clock.advance(1000);
    held.release();
    await flush();
    clock.advance(49);
    await flush();
    expect(breaker.state()).toBe('closed');
    clock.advance(1);
    expect(await result).toBe('ERR_BREAKER_TIMEOUT');
    expect(breaker.state()).toBe('open');
    await flush();
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });
});

describe('a worker that cannot be created is a failure of the service, not a wait', () => {
  it('a worker creation that fails counts against the breaker; the pool refusals never do', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const breaker = createBreaker({ name: 'db', tolerance: { failures: 1, windowMs: 60_000 }, resetMs: 1000, clock, telemetry });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const pool = await createPool({
      name: 'db',
      size: 0,
      maxOverflow: 1,
      clock,
      telemetry,
      worker: {
        create: () => {
          throw refused;
        },
      },
    });
    let ran = 0;
    const call = protect({ name: 'p', breaker, pool, clock }, () => ++ran);
    const outcome = () =>
      call().then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      );
    expect(await outcome()).toBe('ECONNREFUSED');
    expect(breaker.stats()).toMatchObject({ failures: 1 });
    expect(await outcome()).toBe('ECONNREFUSED');
    expect(breaker.state()).toBe('open');
    expect(await outcome()).toBe('ERR_BREAKER_OPEN');
    expect(ran).toBe(0);
    expect(pool.status()).toMatchObject({ checkedOut: 0, overflow: 0, waiting: 0 });
  });
});

describe('fn never starts for a call already rejected or abandoned', () => {
  it('fn never starts for a call already rejected', async () => {
    const { clock, breaker, pool, held } = await busyChain();
    let settledAt: number | undefined;
    const startedAt: number[] = [];
    const call = protect({ name: 'p', breaker, pool, clock }, () => {
      startedAt.push(clock.now());
      return 'ran';
    });
    const result = call().then(
      () => 'resolved',
      () => {
        settledAt = clock.now();
        return 'rejected';
      },
    );
    await flush();
    clock.advance(200);
    await flush();
    held.release();
    await result;
    await flush();
    // Either the call was rejected and fn never ran, or fn ran and the call was not rejected first.
    if (settledAt !== undefined) expect(startedAt).toEqual([]);
    else expect(startedAt).toHaveLength(1);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });

  it('a worker handed over in the same tick as the abort is returned unused', async () => {
    const { clock, pool, held } = await busyChain();
    let ran = 0;
    const call = protect({ name: 'p', pool, clock }, () => ++ran);
    const controller = new AbortController();
    const result = call({ signal: controller.signal }).then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    await flush();
    // The release hands the worker to the waiting checkout; the abort comes before its callback runs.
    held.release();
    controller.abort(new Error('client went away'));
    expect(await result).toMatch(/^ERR_(CALL|POOL)_ABORTED$/);
    expect(ran).toBe(0);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0, waiting: 0 });
  });

  it('a breaker that opens while the call waits for a worker refuses it, and the worker goes back unused', async () => {
    const { clock, breaker, pool, held } = await busyChain();
    let ran = 0;
    const call = protect({ name: 'p', breaker, pool, clock }, () => ++ran);
    const result = call().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    await flush();
    breaker.melt();
    expect(breaker.state()).toBe('open');
    (held as Lease<unknown>).release();
    expect(await result).toBe('ERR_BREAKER_OPEN');
    expect(ran).toBe(0);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });

  it('in half_open, a call refused for want of a probe slot returns its worker unused', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const breaker = createBreaker({ name: 'upstream', tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100, halfOpenProbes: 1, clock, telemetry });
    const pool = await createPool({ name: 'conns', size: 2, maxOverflow: 0, clock, telemetry, worker: { create: () => ({}) } });
    breaker.melt();
    clock.advance(100);
    expect(breaker.state()).toBe('half_open');
    const started: string[] = [];
    let finishProbe!: (value: string) => void;
    const call = protect({ name: 'p', breaker, pool, clock }, (_worker, _signal, input: ProtectCall & { id: string }) => {
      started.push(input.id);
      return new Promise<string>((resolve) => {
        finishProbe = resolve;
      });
    });
    const probe = call({ id: 'probe' });
    const second = call({ id: 'second' }).then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    );
    expect(await second).toBe('ERR_BREAKER_OPEN');
    expect(started).toEqual(['probe']);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 1 });
    finishProbe('fine');
    expect(await probe).toBe('fine');
    expect(breaker.state()).toBe('closed');
    expect(pool.status()).toMatchObject({ idle: 2, checkedOut: 0 });
  });
});
