import { describe, expect, it } from 'vitest';
import {
  BreakerTimeoutError,
  createBreaker,
  createPool,
  createRateLimiter,
  createTelemetry,
  createTestClock,
  protect,
  type TelemetryEvent,
} from '../../../src/index.js';
import { flush } from '../../support/supervision.js';

/** A test clock, a telemetry on it, and a recorder of the `protect.*` events that can start listening late. */
function traced() {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  const listen = () => telemetry.select('protect').subscribe((event) => events.push(event));
  const trace = () => events.map((event) => [event.name, event.metadata.outcome, event.metadata.stage]);
  return { clock, telemetry, events, listen, trace };
}

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe('a span names its chain and measures the call', () => {
  it('the start event carries the chain name', async () => {
    const { clock, telemetry, events, listen } = traced();
    listen();
    await protect({ name: 'quotes', clock, telemetry }, () => 1)();
    expect(events[0]).toMatchObject({ name: 'protect.call.start', metadata: { protect: 'quotes' } });
    expect(events[1]).toMatchObject({ name: 'protect.call.stop', metadata: { protect: 'quotes', outcome: 'ok', stage: 'call' } });
  });

  it('the duration is the time the call took, whenever it started', async () => {
    const { clock, telemetry, events, listen } = traced();
    listen();
    clock.advance(1000);
    const answer = deferred<string>();
    const call = protect({ name: 'p', clock, telemetry }, () => answer.promise)();
    await flush();
    clock.advance(30);
    answer.resolve('done');
    expect(await call).toBe('done');
    expect(events.map((event) => [event.name, event.measurements.duration])).toEqual([
      ['protect.call.start', undefined],
      ['protect.call.stop', 30],
    ]);
  });

  it('a refusal served by the fallback ends with a stop event of outcome fallback at the refusing stage', async () => {
    const { clock, telemetry, events, listen, trace } = traced();
    listen();
    const limiter = createRateLimiter({ name: 'api', limit: 1, windowMs: 1000, clock, telemetry });
    const call = protect({ name: 'p', limiter, clock, telemetry, fallback: () => 'cached' }, () => 'live');
    expect(await call()).toBe('live');
    expect(await call()).toBe('cached');
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.stop', 'ok', 'call'],
      ['protect.call.start', undefined, undefined],
      ['protect.call.stop', 'fallback', 'limiter'],
    ]);
    expect(events[3]!.metadata).toEqual({ protect: 'p', outcome: 'fallback', stage: 'limiter' });
  });
});

describe('a call the breaker timed out is reported at the breaker stage; what fn throws is the call’s', () => {
  it('the breaker’s own call timeout is an error of stage breaker', async () => {
    const { clock, telemetry, listen, trace } = traced();
    listen();
    const breaker = createBreaker({ name: 'upstream', callTimeoutMs: 50, clock, telemetry });
    const call = protect({ name: 'p', breaker, clock, telemetry }, (_worker: undefined, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const pending = failure(call());
    await flush();
    clock.advance(50);
    expect(await pending).toMatchObject({ code: 'ERR_BREAKER_TIMEOUT' });
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'breaker'],
    ]);
  });

  it('a breaker timeout fn throws from a nested chain is stage call, even after the caller aborted', async () => {
    const { clock, telemetry, listen, trace } = traced();
    listen();
    const breaker = createBreaker({ name: 'upstream', clock, telemetry });
    const nested = new BreakerTimeoutError('inner', 10);
    const call = protect({ name: 'p', breaker, clock, telemetry, fallback: () => 'cached', fallbackOn: ['breaker'] }, (_worker: undefined, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(nested))),
    );
    const controller = new AbortController();
    const pending = failure(call({ signal: controller.signal }));
    await flush();
    controller.abort(new Error('client went away'));
    expect(await pending).toBe(nested);
    const plain = protect({ name: 'p', breaker, clock, telemetry }, () => Promise.reject(nested));
    expect(await failure(plain())).toBe(nested);
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'call'],
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'error', 'call'],
    ]);
  });
});

describe('a span is whole or absent: a subscriber arriving mid-call sees nothing of that call', () => {
  it('a call that succeeds', async () => {
    const { clock, telemetry, events, listen } = traced();
    const answer = deferred<string>();
    const call = protect({ name: 'p', clock, telemetry }, () => answer.promise)();
    await flush();
    listen();
    answer.resolve('done');
    expect(await call).toBe('done');
    expect(events).toEqual([]);
  });

  it('a call that fails', async () => {
    const { clock, telemetry, events, listen } = traced();
    const answer = deferred<string>();
    const call = failure(protect({ name: 'p', clock, telemetry }, () => answer.promise)());
    await flush();
    listen();
    answer.reject(new Error('boom'));
    expect(await call).toMatchObject({ message: 'boom' });
    expect(events).toEqual([]);
  });

  it('a refused call whose fallback answers, or fails', async () => {
    const { clock, telemetry, events, listen } = traced();
    const breaker = createBreaker({ name: 'upstream', tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100, clock, telemetry });
    breaker.melt();
    const answers = [deferred<string>(), deferred<string>()];
    let next = 0;
    const call = protect({ name: 'p', breaker, clock, telemetry, fallback: () => answers[next++]!.promise }, () => 'live');
    const served = call();
    const failed = failure(call());
    await flush();
    listen();
    answers[0]!.resolve('cached');
    answers[1]!.reject(new Error('no cache'));
    expect(await served).toBe('cached');
    expect(await failed).toMatchObject({ message: 'no cache' });
    expect(events).toEqual([]);
  });
});

describe('the pool stage in telemetry', () => {
  it('a pool refusal without a fallback is reported refused at the pool stage', async () => {
    const { clock, telemetry, listen, trace } = traced();
    listen();
    const pool = await createPool({ name: 'conns', size: 0, maxOverflow: 0, checkoutTimeoutMs: 10, clock, telemetry, worker: { create: () => ({}) } });
    const pending = failure(protect({ name: 'p', pool, clock, telemetry }, () => 'live')());
    await flush();
    clock.advance(10);
    expect(await pending).toMatchObject({ code: 'ERR_POOL_TIMEOUT' });
    expect(trace()).toEqual([
      ['protect.call.start', undefined, undefined],
      ['protect.call.exception', 'refused', 'pool'],
    ]);
  });
});
