import { describe, expect, it } from 'vitest';
import {
  PoolTimeoutError,
  createBreaker,
  createPool,
  createRateLimiter,
  createTelemetry,
  createTestClock,
  isRefusal,
  protect,
  stageOf,
  type TelemetryEvent,
} from '../../../src/index.js';
import { flush } from '../../support/supervision.js';

async function parts(options: { limit?: number } = {}) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.select('protect').subscribe((event) => events.push(event));
  const limiter = createRateLimiter({ name: 'api', limit: options.limit ?? 10, windowMs: 1000, clock, telemetry });
  const breaker = createBreaker({ name: 'upstream', tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100, clock, telemetry });
  const pool = await createPool({ name: 'conns', size: 1, maxOverflow: 0, checkoutTimeoutMs: 50, clock, telemetry, worker: { create: () => ({}) } });
  const trace = () => events.map((event) => [event.name, event.metadata.outcome, event.metadata.stage]);
  return { clock, telemetry, events, trace, limiter, breaker, pool };
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe('a fallback that fails makes the call fail, and says so', () => {
  it('a fallback that throws reports outcome error with an exception event', async () => {
    const { limiter, breaker, clock, telemetry, trace } = await parts();
    breaker.melt();
    const call = protect(
      {
        name: 'p',
        limiter,
        breaker,
        clock,
        telemetry,
        fallback: () => {
          throw new Error('no cache either');
        },
      },
      () => 'live',
    );
    const error = await failure(call());
    expect((error as Error).message).toBe('no cache either');
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'breaker'],
    ]);
  });

  it('a fallback that rejects reports outcome error with an exception event', async () => {
    const { breaker, clock, telemetry, trace, events } = await parts();
    breaker.melt();
    const call = protect({ name: 'p', breaker, clock, telemetry, fallback: () => Promise.reject(new Error('cache down')) }, () => 'live');
    const error = await failure(call());
    expect((error as Error).message).toBe('cache down');
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'breaker'],
    ]);
    expect(events[1]!.metadata.error).toBe(error);
  });

  it('a fallback that never settles ends with the call: aborting the call rejects it', async () => {
    const { breaker, clock, telemetry, trace } = await parts();
    breaker.melt();
    const call = protect({ name: 'p', breaker, clock, telemetry, fallback: () => new Promise<string>(() => undefined) }, () => 'live');
    const controller = new AbortController();
    const pending = failure(call({ signal: controller.signal }));
    await flush();
    controller.abort(new Error('client went away'));
    const error = (await pending) as { code?: string; cause?: unknown };
    expect(error.code).toBe('ERR_CALL_ABORTED');
    expect((error.cause as Error).message).toBe('client went away');
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'breaker'],
    ]);
  });
});

describe('an already-aborted call spends nothing', () => {
  it('an already-aborted call spends nothing', async () => {
    const { limiter, breaker, pool, clock, telemetry, trace } = await parts({ limit: 2 });
    let ran = 0;
    const call = protect({ name: 'p', limiter, breaker, pool, clock, telemetry, fallback: () => -1, fallbackOn: ['limiter', 'breaker', 'pool'] }, () => ++ran);
    const error = (await failure(call({ key: 'k', signal: AbortSignal.abort(new Error('gone')) }))) as { code?: string };
    expect(error.code).toBe('ERR_CALL_ABORTED');
    expect(stageOf(error)).toBe('limiter');
    expect(isRefusal(error)).toBe(false);
    expect(ran).toBe(0);
    // The limiter's two units are still there, the breaker saw nothing, the worker is idle.
    expect(limiter.hitSync('k')).toMatchObject({ allowed: true, count: 1, remaining: 1 });
    expect(breaker.stats()).toEqual({ successes: 0, failures: 0, rejected: 0, opened: 0 });
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'limiter'],
    ]);
  });

  it('a call aborted while its limiter hit is in flight goes no further', async () => {
    const { limiter, breaker, pool } = await parts();
    let ran = 0;
    const controller = new AbortController();
    const slowLimiter = { name: 'remote', hit: (key: string, cost?: number) => Promise.resolve().then(() => limiter.hitSync(key, cost)), reset: (key: string) => limiter.reset(key) };
    const call = protect({ name: 'p', limiter: slowLimiter, breaker, pool }, () => ++ran);
    const pending = failure(call({ signal: controller.signal }));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ERR_CALL_ABORTED' });
    expect(ran).toBe(0);
    expect(breaker.stats()).toEqual({ successes: 0, failures: 0, rejected: 0, opened: 0 });
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });
});

describe('an error fn throws is the call’s, whatever code it carries', () => {
  it('an error fn throws with a pool code counts against the breaker and is not served by the fallback', async () => {
    const { breaker, pool, clock, telemetry, trace } = await parts();
    const impostor = Object.assign(new Error('some library timed out'), { code: 'ERR_POOL_TIMEOUT' });
    const call = protect({ name: 'p', breaker, pool, clock, telemetry, fallback: () => 'fallback', fallbackOn: ['pool'] }, () => Promise.reject(impostor));
    expect(await failure(call())).toBe(impostor);
    expect(stageOf(impostor)).toBe('call');
    expect(isRefusal(impostor)).toBe(false);
    expect(breaker.stats().failures).toBe(1);
    expect(breaker.state()).toBe('open');
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'call'],
    ]);
  });

  it('a real pool refusal thrown by fn from an inner pool still counts against the breaker and is the call’s', async () => {
    const { breaker, pool, clock, telemetry, trace } = await parts();
    const inner = PoolTimeoutError.refuse('inner', 10);
    const call = protect({ name: 'p', breaker, pool, clock, telemetry, fallback: () => 'fallback', fallbackOn: ['pool'] }, () => {
      throw inner;
    });
    expect(await failure(call())).toBe(inner);
    expect(breaker.stats().failures).toBe(1);
    expect(breaker.state()).toBe('open');
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'call'],
    ]);
    // The error itself is a pool refusal, and stageOf says what it is.
    expect(stageOf(inner)).toBe('pool');
  });

  it('stageOf and isRefusal go by the package’s brand, not by a code any error can carry', () => {
    for (const code of ['ERR_RATE_LIMITED', 'ERR_BREAKER_OPEN', 'ERR_POOL_FULL', 'ERR_POOL_TIMEOUT']) {
      const foreign = Object.assign(new Error('foreign'), { code });
      expect(stageOf(foreign)).toBe('call');
      expect(isRefusal(foreign)).toBe(false);
    }
    expect(stageOf({ code: 'ERR_BREAKER_OPEN' })).toBe('call');
    expect(stageOf(null)).toBe('call');
    expect(stageOf('ERR_POOL_FULL')).toBe('call');
  });
});
