import { describe, expect, it } from 'vitest';
import { BreakerArgumentError, BreakerTimeoutError, isBreakerArgumentError, isBreakerTimeoutError } from '../../../src/breaker/index.js';
import { ConfigError } from '../../../src/index.js';
import { createBreaker } from '../../../src/breaker/index.js';
import { fail, outcome, quietBreaker, settledSoon, succeed, testBreaker } from '../../support/breaker.js';

describe('call', () => {
  it('passes values and errors through unchanged, sync or async', async () => {
    const { breaker } = testBreaker();
    expect(await breaker.call(() => 7)).toBe(7);
    expect(await breaker.call(async () => 8)).toBe(8);
    const error = new Error('own');
    await expect(breaker.call(() => Promise.reject(error))).rejects.toBe(error);
    await expect(
      breaker.call(() => {
        throw error;
      }),
    ).rejects.toBe(error);
  });

  it('gives the function an AbortSignal', async () => {
    const { breaker } = testBreaker();
    const signal = await breaker.call((given) => given);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
  });
});

describe('callTimeoutMs', () => {
  it('rejects a slower call with a typed timeout error, aborts its signal and counts a failure', async () => {
    const { breaker, clock, events } = testBreaker({ callTimeoutMs: 50, tolerance: { failures: 0, windowMs: 1000 } });
    let seen: AbortSignal | undefined;
    const call = breaker.call((signal) => {
      seen = signal;
      return new Promise(() => undefined);
    });
    clock.advance(49);
    expect(seen?.aborted).toBe(false);
    clock.advance(1);
    const error = await call.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BreakerTimeoutError);
    expect(isBreakerTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BREAKER_TIMEOUT', breaker: 'test', timeoutMs: 50 });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(breaker.state()).toBe('open');
    expect(events.find((event) => event.name === 'breaker.call')?.metadata.outcome).toBe('timeout');
  });

  it('lets a call that finishes in time through and clears its timer', async () => {
    const { breaker, clock } = testBreaker({ callTimeoutMs: 50 });
    const call = breaker.call(
      () => new Promise<string>((resolve) => clock.setTimeout(() => resolve('in time'), 20)),
    );
    clock.advance(20);
    expect(await call).toBe('in time');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('ignores the outcome of a call that already timed out', async () => {
    const { breaker, clock } = testBreaker({ callTimeoutMs: 10, tolerance: { failures: 5, windowMs: 1000 } });
    let finish!: (value: string) => void;
    const call = breaker.call(() => new Promise<string>((resolve) => (finish = resolve)));
    clock.advance(10);
    await outcome(call);
    finish('late');
    await Promise.resolve();
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 1 });
  });
});

describe('isFailure', () => {
  it('errors it does not count propagate but do not count as failures', async () => {
    class NotFound extends Error {}
    const { breaker } = testBreaker({
      tolerance: { failures: 0, windowMs: 1000 },
      isFailure: (error) => !(error instanceof NotFound),
    });
    const error = new NotFound('missing');
    await expect(breaker.call(() => Promise.reject(error))).rejects.toBe(error);
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });
});

describe('telemetry', () => {
  it('emits breaker.call with duration and outcome, and breaker.state with from and to', async () => {
    const { breaker, clock, events } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
    await breaker.call(
      () => new Promise<string>((resolve) => {
        clock.setTimeout(() => resolve('ok'), 15);
        clock.advance(15);
      }),
    );
    await outcome(breaker.call(fail));
    await outcome(breaker.call(succeed));
    clock.advance(100);
    const summary = events.map((event) =>
      event.name === 'breaker.call'
        ? `call ${String(event.metadata.outcome)} ${event.measurements.duration}`
        : `state ${String(event.metadata.from)}->${String(event.metadata.to)}`,
    );
    expect(summary).toEqual(['call success 15', 'state closed->open', 'call failure 0', 'call rejected 0', 'state open->half_open']);
    expect(events.every((event) => event.metadata.breaker === 'test')).toBe(true);
  });
});

describe('options', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['name', { name: '' }],
    ['name', { name: undefined }],
    ['tolerance.failures', { tolerance: { failures: -1, windowMs: 10 } }],
    ['tolerance.windowMs', { tolerance: { failures: 1, windowMs: Number.POSITIVE_INFINITY } }],
    ['tolerance.windowMs', { tolerance: { failures: 1, windowMs: 0 } }],
    ['resetMs', { resetMs: Number.NaN }],
    ['halfOpenProbes', { halfOpenProbes: 0 }],
    ['callTimeoutMs', { callTimeoutMs: -5 }],
    ['failureRate.threshold', { failureRate: { threshold: 0, minimumCalls: 1, windowMs: 10 } }],
    ['failureRate.threshold', { failureRate: { threshold: 1.5, minimumCalls: 1, windowMs: 10 } }],
    ['isFailure', { isFailure: 'yes' }],
  ];
  for (const [option, patch] of bad) {
    it(`rejects ${option} = ${JSON.stringify(Object.values(patch)[0])} with ConfigError`, () => {
      const act = () => createBreaker({ name: 'x', ...patch } as never);
      expect(act).toThrow(ConfigError);
      expect(act).toThrow(option);
    });
  }

  it('names the option, what it expects and the value it got in the ConfigError message', () => {
    const messages: Array<[Record<string, unknown>, string, unknown, string]> = [
      [{ tolerance: { failures: -1, windowMs: 10 } }, 'tolerance.failures', -1, 'Invalid option tolerance.failures: expected an integer >= 0, got -1'],
      [{ tolerance: { failures: 1.5, windowMs: 10 } }, 'tolerance.failures', 1.5, 'Invalid option tolerance.failures: expected an integer >= 0, got 1.5'],
      [{ tolerance: { failures: 1, windowMs: 0 } }, 'tolerance.windowMs', 0, 'Invalid option tolerance.windowMs: expected a finite number > 0, got 0'],
      [{ tolerance: 5 }, 'tolerance', 5, 'Invalid option tolerance: expected an object, got 5'],
      [{ resetMs: 'soon' }, 'resetMs', 'soon', 'Invalid option resetMs: expected a finite number > 0, got "soon"'],
      [{ halfOpenProbes: 0 }, 'halfOpenProbes', 0, 'Invalid option halfOpenProbes: expected an integer >= 1, got 0'],
      [{ callTimeoutMs: 0 }, 'callTimeoutMs', 0, 'Invalid option callTimeoutMs: expected a finite number > 0, got 0'],
      [{ failureRate: { threshold: 2, minimumCalls: 1, windowMs: 10 } }, 'failureRate.threshold', 2, 'Invalid option failureRate.threshold: expected a number in (0, 1], got 2'],
      [{ failureRate: { threshold: 0.5, minimumCalls: 0, windowMs: 10 } }, 'failureRate.minimumCalls', 0, 'Invalid option failureRate.minimumCalls: expected an integer >= 1, got 0'],
      [{ isFailure: 1 }, 'isFailure', 1, 'Invalid option isFailure: expected a function, got 1'],
      [{ name: '' }, 'name', '', 'Invalid option name: expected a non-empty string, got ""'],
    ];
    for (const [patch, option, value, message] of messages) {
      const error = (() => {
        try {
          createBreaker({ name: 'x', ...patch } as never);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'ERR_CONFIG', option, value, message });
    }
  });

  it('names the option that cannot change live in the ConfigError of reconfigure', () => {
    const { breaker } = testBreaker();
    expect(() => breaker.reconfigure({ clock: undefined } as never)).toThrow(
      'Invalid option clock: expected one of tolerance, failureRate, resetMs, halfOpenProbes, callTimeoutMs, isFailure (cannot change live), got undefined',
    );
  });

  it('accepts threshold exactly 1', () => {
    expect(() => createBreaker({ name: 'x', failureRate: { threshold: 1, minimumCalls: 1, windowMs: 10 } })).not.toThrow();
  });
});

describe('neutral errors (per call)', () => {
  it('propagate but count neither as failure nor success', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 } });
    const local = new Error('pool full');
    const neutral = (error: unknown) => error === local;
    await expect(breaker.call(() => Promise.reject(local), { neutral })).rejects.toBe(local);
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 0 });
  });

  it('free a probe slot without closing or reopening the breaker', async () => {
    const { breaker, clock } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 10, halfOpenProbes: 1 });
    await outcome(breaker.call(fail));
    clock.advance(10);
    const local = new Error('pool full');
    await expect(breaker.call(() => Promise.reject(local), { neutral: (error) => error === local })).rejects.toBe(local);
    expect(breaker.state()).toBe('half_open');
    expect(await breaker.call(succeed)).toBe('ok');
    expect(breaker.state()).toBe('closed');
  });
});

describe("the caller's signal (per call)", () => {
  it('is given to the function as it is when there is no call timeout', async () => {
    const { breaker } = testBreaker();
    const controller = new AbortController();
    expect(await breaker.call((signal) => signal, { signal: controller.signal })).toBe(controller.signal);
  });

  it('aborts the signal the function gets when a call timeout is set', async () => {
    const { breaker } = testBreaker({ callTimeoutMs: 1000 });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = breaker.call(
      (signal) => {
        seen = signal;
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('client left'));
    await expect(call).rejects.toThrow('client left');
    expect(seen?.aborted).toBe(true);
  });
});

describe('call timeouts share one timer', () => {
  it('times each call out at its own deadline with a single pending timer', async () => {
    const { breaker, clock } = testBreaker({ callTimeoutMs: 100, tolerance: { failures: 10, windowMs: 1000 } });
    const never = () => new Promise<never>(() => undefined);
    const first = outcome(breaker.call(never));
    clock.advance(30);
    const second = outcome(breaker.call(never));
    const third = outcome(breaker.call(never));
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(70);
    expect(await first).toBe('ERR_BREAKER_TIMEOUT');
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(29);
    await Promise.resolve();
    let settled = false;
    void second.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await second).toBe('ERR_BREAKER_TIMEOUT');
    expect(await third).toBe('ERR_BREAKER_TIMEOUT');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('honours a shorter timeout set by a hot reload for the calls after it', async () => {
    const { breaker, clock } = testBreaker({ callTimeoutMs: 100, tolerance: { failures: 10, windowMs: 1000 } });
    const never = () => new Promise<never>(() => undefined);
    const long = outcome(breaker.call(never));
    breaker.reconfigure({ callTimeoutMs: 10 });
    const short = outcome(breaker.call(never));
    clock.advance(10);
    expect(await short).toBe('ERR_BREAKER_TIMEOUT');
    clock.advance(89);
    let settled = false;
    void long.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await long).toBe('ERR_BREAKER_TIMEOUT');
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('a call without a function', () => {
  const states = ['closed', 'open', 'half_open', 'disabled'] as const;
  for (const quiet of [true, false]) {
    for (const state of states) {
      it(`rejects with a TypeError (BreakerArgumentError naming fn), counts nothing and changes no state (${state}, ${quiet ? 'no telemetry subscriber' : 'a telemetry subscriber'})`, async () => {
        const setup = quiet
          ? { ...quietBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 }), events: [] }
          : testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
        const { breaker, clock, events } = setup;
        if (state !== 'closed') breaker.melt();
        if (state === 'half_open') clock.advance(100);
        if (state === 'disabled') breaker.disable();
        expect(breaker.state()).toBe(state);
        const before = breaker.stats();
        const eventsBefore = events.length;
        let call: Promise<unknown>;
        try {
          call = breaker.call(undefined as never);
        } catch (error) {
          call = Promise.reject(new Error(`threw synchronously: ${String(error)}`));
        }
        const error = await call.catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TypeError);
        expect(error).toBeInstanceOf(BreakerArgumentError);
        expect(isBreakerArgumentError(error)).toBe(true);
        expect(error).toMatchObject({ code: 'ERR_BREAKER_ARGUMENT', breaker: 'test', argument: 'fn', value: undefined });
        expect((error as Error).message).toBe("breaker 'test': call(fn, options) expects fn to be a function, got undefined");
        expect(breaker.stats()).toEqual(before);
        expect(breaker.state()).toBe(state);
        expect(events.length).toBe(eventsBefore);
        if (state === 'half_open') {
          expect(await settledSoon(breaker.call(succeed))).toBe('ok');
          expect(breaker.state()).toBe('closed');
        }
      });
    }
  }

  it('never opens the breaker however often it happens', async () => {
    const { breaker } = quietBreaker({ tolerance: { failures: 0, windowMs: 1000 } });
    for (const fn of [undefined, null, 42, 'fn', {}]) {
      expect(await outcome(breaker.call(fn as never))).toBe('ERR_BREAKER_ARGUMENT');
    }
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toEqual({ successes: 0, failures: 0, rejected: 0, opened: 0 });
  });
});
