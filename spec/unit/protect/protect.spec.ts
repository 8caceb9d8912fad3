import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createBreaker,
  createPool,
  createRateLimiter,
  createTelemetry,
  createTestClock,
  protect,
  stageOf,
  type ProtectCall,
  type TelemetryEvent,
} from '../../../src/index.js';

async function chain(options: { limit?: number; size?: number; failures?: number } = {}) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.select('protect').subscribe((event) => events.push(event));
  const limiter = createRateLimiter({ name: 'api', limit: options.limit ?? 100, windowMs: 1000, clock, telemetry });
  const breaker = createBreaker({ name: 'upstream', tolerance: { failures: options.failures ?? 0, windowMs: 1000 }, resetMs: 100, clock, telemetry });
  let created = 0;
  const pool = await createPool({
    name: 'conns',
    size: options.size ?? 1,
    maxOverflow: 0,
    checkoutTimeoutMs: 50,
    clock,
    telemetry,
    worker: { create: () => ({ id: ++created }) },
  });
  return { clock, telemetry, events, limiter, breaker, pool };
}

const codeOf = (promise: Promise<unknown>) => promise.then(() => 'ok', (error: { code?: string; message?: string }) => error.code ?? error.message);

describe('protect: rate limit → breaker → pool → fn', () => {
  it('runs the function with a checked-out worker and the call, and releases the worker', async () => {
    const { limiter, breaker, pool } = await chain();
    const call = protect<{ id: number }, string, ProtectCall & { name: string }>(
      { name: 'greet', limiter, breaker, pool },
      (worker, signal, input) => `${input.name} via worker ${worker.id}, signal ${signal.aborted ? 'aborted' : 'live'}`,
    );
    expect(await call({ key: 'alice', name: 'hello' })).toBe('hello via worker 1, signal live');
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    expect(breaker.stats().successes).toBe(1);
  });

  it('a rate-limited call never reaches the breaker, the pool or the function', async () => {
    const { limiter, breaker, pool } = await chain({ limit: 1 });
    let ran = 0;
    const call = protect({ name: 'p', limiter, breaker, pool }, () => ++ran);
    await call({ key: 'k' });
    const error = await call({ key: 'k' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED', limiter: 'api', retryAfterMs: 1000, reason: 'limit_exceeded' });
    expect(stageOf(error)).toBe('limiter');
    expect(ran).toBe(1);
    expect(breaker.stats()).toMatchObject({ successes: 1, rejected: 0 });
    expect(await call({ key: 'other' })).toBe(2);
  });

  it('an open breaker refuses before the pool is touched', async () => {
    const { limiter, breaker, pool } = await chain();
    breaker.melt();
    let ran = false;
    const call = protect({ name: 'p', limiter, breaker, pool }, () => (ran = true));
    const error = await call().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_BREAKER_OPEN', retryAfterMs: 100 });
    expect(stageOf(error)).toBe('breaker');
    expect(ran).toBe(false);
    expect(pool.status().checkedOut).toBe(0);
  });

  it('a full pool refuses with its typed error and neither opens nor closes the breaker', async () => {
    const { breaker, pool, clock } = await chain({ failures: 0 });
    const held = await pool.checkout();
    const call = protect({ name: 'p', breaker, pool }, () => 'ran');
    const waiting = codeOf(call());
    clock.advance(50);
    expect(await waiting).toBe('ERR_POOL_TIMEOUT');
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 0 });
    held.release();
    expect(await call()).toBe('ran');
  });

  it("the function's own error is stage 'call' and counts against the breaker", async () => {
    const { breaker, pool } = await chain();
    const call = protect({ name: 'p', breaker, pool }, () => Promise.reject(new Error('upstream down')));
    const error = await call().catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('upstream down');
    expect(stageOf(error)).toBe('call');
    expect(breaker.state()).toBe('open');
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });

  it('aborting the call withdraws its pool checkout and aborts the signal the function sees', async () => {
    const { pool } = await chain();
    const held = await pool.checkout();
    const controller = new AbortController();
    const call = protect({ name: 'p', pool }, () => 'ran');
    const waiting = codeOf(call({ signal: controller.signal }));
    controller.abort();
    expect(await waiting).toBe('ERR_POOL_ABORTED');
    held.release();
    let seen: AbortSignal | undefined;
    const running = protect({ name: 'q', pool }, (_worker, signal) => {
      seen = signal;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const second = new AbortController();
    const pending = running({ signal: second.signal }).catch(() => 'aborted');
    await Promise.resolve();
    await Promise.resolve();
    second.abort();
    expect(await pending).toBe('aborted');
    expect(seen?.aborted).toBe(true);
  });

  it('every stage is optional', async () => {
    expect(await protect({ name: 'bare' }, (worker: undefined) => worker ?? 'no worker')()).toBe('no worker');
  });
});

describe('fallback', () => {
  it('answers refusals of the limiter and the breaker, not failures of the call', async () => {
    const { limiter, breaker } = await chain({ limit: 1 });
    const call = protect(
      { name: 'p', limiter, breaker, fallback: (_refusal, stage) => `fallback for ${stage}` },
      (_worker: undefined, _signal, input: ProtectCall & { fail?: boolean }) => (input.fail ? Promise.reject(new Error('boom')) : 'live'),
    );
    expect(await call({ key: 'a' })).toBe('live');
    expect(await call({ key: 'a' })).toBe('fallback for limiter');
    await expect(call({ key: 'b', fail: true })).rejects.toThrow('boom');
    expect(await call({ key: 'c' })).toBe('fallback for breaker');
  });

  it('serves pool refusals only when asked to', async () => {
    const { pool, clock } = await chain();
    await pool.checkout();
    const strict = protect({ name: 'p', pool, fallback: () => 'cached' }, () => 'live');
    const lenient = protect({ name: 'q', pool, fallback: () => 'cached', fallbackOn: ['pool'] }, () => 'live');
    const first = codeOf(strict());
    const second = lenient();
    clock.advance(50);
    expect(await first).toBe('ERR_POOL_TIMEOUT');
    expect(await second).toBe('cached');
  });
});

describe('telemetry', () => {
  it('one span per call with the outcome and the stage that decided it', async () => {
    const { limiter, breaker, pool, events, clock, telemetry } = await chain({ limit: 1 });
    const traced = protect({ name: 'traced', limiter, breaker, pool, clock, telemetry }, () => 'ok');
    await traced({ key: 'x' });
    await traced({ key: 'x' }).catch(() => undefined);
    expect(events.map((event) => [event.name, event.metadata.outcome, event.metadata.stage])).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.stop', 'ok', 'call'],
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'refused', 'limiter'],
    ]);
    expect(events[1]!.measurements).toEqual({ duration: 0 });
    expect(events[3]!.metadata).toMatchObject({ protect: 'traced', error: expect.objectContaining({ code: 'ERR_RATE_LIMITED' }) });
  });
});

describe('options', () => {
  it('a missing name or function is a ConfigError', () => {
    expect(() => protect({ name: '' }, () => 1)).toThrow(ConfigError);
    expect(() => protect({ name: 'p' }, undefined as never)).toThrow(ConfigError);
    expect(() => protect({ name: 'p', checkoutTimeoutMs: -1 }, () => 1)).toThrow(ConfigError);
  });
});
