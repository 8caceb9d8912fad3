import { describe, expect, it } from 'vitest';
import { BreakerOpenError, createBreaker, isBreakerArgumentError } from '../../../src/breaker/index.js';
import { breakerFleetHooksKey, breakerFleetHooksOf } from '../../../src/breaker/isolation.js';
import { CountTolerance, RateTolerance } from '../../../src/breaker/tolerance.js';
import { ConfigError, createTestClock } from '../../../src/index.js';
import { quietBreaker, testBreaker } from '../../support/breaker.js';

/**
 * Edges the mutation run on src/breaker found unchecked (docs/verification.md): refusal and
 * argument messages, results that are not promises, a caller's signal that aborted before the
 * call, the listener a timed call leaves on it, respawning, and the tolerances' window arithmetic
 * and memory.
 */

function ringOf(tolerance: CountTolerance): Float64Array | undefined {
  return (tolerance as unknown as { runs: Float64Array | undefined }).runs;
}

describe('what a refusal and a malformed call say', () => {
  it('a refusal names the state and, when it is a finite number, the wait', () => {
    expect(new BreakerOpenError('b', 99.2, 'open').message).toBe("breaker 'b' is open: call refused (retry after 100 ms)");
    expect(new BreakerOpenError('b', Number.POSITIVE_INFINITY, 'disabled').message).toBe("breaker 'b' is disabled: call refused");
    expect(new BreakerOpenError('b', () => 5, 'half_open').message).toBe("breaker 'b' is half-open: call refused");
  });

  it('a fleet isolation names who isolated it and why, and toJSON carries a copy of it', () => {
    const isolation = { id: 'x', by: 'i0', reason: 'deploy', at: 1 } as never;
    const error = new BreakerOpenError('b', Number.POSITIVE_INFINITY, 'disabled', isolation);
    expect(error.message).toBe("breaker 'b' is isolated across instances by 'i0' (deploy): call refused");
    expect(new BreakerOpenError('b', 1, 'disabled', { id: 'x', by: 'i1' } as never).message).toBe(
      "breaker 'b' is isolated across instances by 'i1': call refused (retry after 1 ms)",
    );
    const json = error.toJSON();
    expect(json.isolation).toEqual(isolation);
    expect(json.isolation).not.toBe(isolation);
    expect('isolation' in new BreakerOpenError('b', 1, 'open').toJSON()).toBe(false);
  });

  it('a malformed call says what each argument should have been', async () => {
    const { breaker } = quietBreaker();
    const messages = await Promise.all(
      [{ neutral: 1 }, { signal: {} }, 7].map((options) => breaker.call(() => 1, options as never).catch((error: Error) => error)),
    );
    expect(messages.every(isBreakerArgumentError)).toBe(true);
    expect(messages.map((error) => (error as Error).message)).toEqual([
      "breaker 'test': call(fn, options) expects options.neutral to be a function or undefined, got 1",
      expect.stringContaining('expects options.signal to be an AbortSignal or undefined'),
      "breaker 'test': call(fn, options) expects options to be an object or undefined, got 7",
    ]);
  });

  it('option errors name the option', () => {
    const named = (options: unknown): string | undefined => {
      try {
        createBreaker(options as never);
      } catch (error) {
        return error instanceof ConfigError ? error.option : 'not a ConfigError';
      }
      return undefined;
    };
    expect(named(42)).toBe('options');
    expect(named({ name: 'b', failureRate: 3 })).toBe('failureRate');
    expect(named({ name: 'b', failureRate: { threshold: '0.5' } })).toBe('failureRate.threshold');
    expect(named({ name: 'b', failureRate: { threshold: 0.5, windowMs: 0 } })).toBe('failureRate.windowMs');
  });
});

describe('results that are not promises', () => {
  it('counts a synchronous result at once, undefined and null included, on both paths', async () => {
    for (const { breaker } of [quietBreaker(), testBreaker()]) {
      const results = [breaker.call(() => 7), breaker.call(() => undefined), breaker.call(() => null)];
      expect(breaker.stats().successes).toBe(3);
      expect(await Promise.all(results)).toEqual([7, undefined, null]);
    }
  });

  it('counts a synchronous result at once on a timed call', async () => {
    const { breaker } = testBreaker({ callTimeoutMs: 50 });
    const call = breaker.call(() => null);
    expect(breaker.stats().successes).toBe(1);
    expect(await call).toBeNull();
  });
});

describe('a timed call and the caller’s signal', () => {
  it('gives fn an aborted signal when the caller’s had aborted before the call', async () => {
    const { breaker } = testBreaker({ callTimeoutMs: 50 });
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    const seen = await breaker.call((signal) => ({ aborted: signal.aborted, reason: signal.reason as Error }), { signal: caller.signal });
    expect(seen.aborted).toBe(true);
    expect(seen.reason.message).toBe('gone');
  });

  it('leaves no listener on the caller’s signal once it settled: a later abort does not reach fn’s signal', async () => {
    const { breaker } = testBreaker({ callTimeoutMs: 50 });
    const caller = new AbortController();
    let given: AbortSignal | undefined;
    await breaker.call(
      (signal) => {
        given = signal;
        return Promise.resolve(1);
      },
      { signal: caller.signal },
    );
    caller.abort(new Error('later'));
    expect(given?.aborted).toBe(false);
  });
});

describe('respawn and watches', () => {
  it('a respawned breaker stops its old actor and stays closed and calling', async () => {
    const { breaker } = quietBreaker({ tolerance: { failures: 0, windowMs: 1_000 } });
    await breaker.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(breaker.state()).toBe('open');
    const old = breaker.actor;
    (breaker as unknown as { respawn(): unknown }).respawn();
    expect(old.getSnapshot().status).toBe('stopped');
    expect(breaker.state()).toBe('closed');
    expect(await breaker.call(() => 2)).toBe(2);
  });

  it('a watch stops when unsubscribed', async () => {
    const { breaker } = quietBreaker({ tolerance: { failures: 0, windowMs: 1_000 } });
    const seen: string[] = [];
    const stop = breakerFleetHooksOf(breaker)!.watch((state) => seen.push(state));
    breaker.disable();
    stop();
    breaker.enable();
    expect(seen).toEqual(['disabled']);
  });

  it('finds fleet hooks only on an object that carries an object under the key', () => {
    expect(breakerFleetHooksOf(null)).toBeUndefined();
    expect(breakerFleetHooksOf(42)).toBeUndefined();
    expect(breakerFleetHooksOf({ [breakerFleetHooksKey]: 42 })).toBeUndefined();
    expect(breakerFleetHooksOf({ [breakerFleetHooksKey]: null })).toBeUndefined();
    const hooks = {};
    expect(breakerFleetHooksOf({ [breakerFleetHooksKey]: hooks })).toBe(hooks);
  });
});

describe('the count tolerance’s memory', () => {
  it('failures at the same instant share one run: a million of them keep the first small ring', () => {
    const tolerance = new CountTolerance(1e12, 1_000);
    for (let index = 0; index < 1_000_000; index += 1) tolerance.failure(5);
    expect(tolerance.recorded).toBe(1_000_000);
    expect(ringOf(tolerance)!.length).toBe(8);
  });

  it('keeps a small ring once the window empties, and gives back one that grew for a burst', () => {
    const small = new CountTolerance(100, 1_000);
    for (let time = 0; time < 4; time += 1) small.failure(time);
    small.failure(5_000);
    expect(ringOf(small)!.length).toBe(8);
    const grown = new CountTolerance(100, 1_000);
    for (let time = 0; time < 6; time += 1) grown.failure(time);
    expect(ringOf(grown)!.length).toBe(16);
    grown.failure(5_000);
    expect(ringOf(grown)!.length).toBe(8);
    expect(grown.failureTimes()).toEqual([5_000]);
  });
});

describe('the rate tolerance’s window', () => {
  it('counts the oldest bucket still inside the window and none before it', () => {
    // windowMs 1000: ten buckets of 100 ms; at t = 1000 the window holds buckets 1 to 10.
    const inside = new RateTolerance(0.5, 2, 1_000);
    expect(inside.failure(150)).toBe(false);
    expect(inside.failure(1_000)).toBe(true);
    const outside = new RateTolerance(0.5, 2, 1_000);
    expect(outside.failure(50)).toBe(false);
    expect(outside.failure(1_100)).toBe(false);
  });

  it('a reset forgets the calls counted, with failureRate alone or beside a count tolerance', async () => {
    for (const options of [{}, { tolerance: { failures: 1_000, windowMs: 60_000 } }]) {
      const clock = createTestClock();
      const breaker = createBreaker({ name: 'b', clock, failureRate: { threshold: 0.5, minimumCalls: 4, windowMs: 60_000 }, ...options });
      for (let index = 0; index < 3; index += 1) await breaker.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
      breaker.reset();
      await breaker.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
      expect(breaker.state()).toBe('closed');
    }
  });

  it('a hot reload keeps the calls counted when the window is unchanged, starts afresh when it changes, and may add a rate to a count', async () => {
    const clock = createTestClock();
    const rate = { threshold: 0.5, minimumCalls: 2, windowMs: 1_000 };
    const fail = (breaker: ReturnType<typeof createBreaker>) => breaker.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
    const kept = createBreaker({ name: 'kept', clock, failureRate: rate });
    await fail(kept);
    kept.reconfigure({ failureRate: { ...rate, threshold: 0.6 } });
    await fail(kept);
    expect(kept.state()).toBe('open');
    const moved = createBreaker({ name: 'moved', clock, failureRate: rate });
    await fail(moved);
    moved.reconfigure({ failureRate: { ...rate, windowMs: 2_000 } });
    await fail(moved);
    expect(moved.state()).toBe('closed');
    const added = createBreaker({ name: 'added', clock, tolerance: { failures: 100, windowMs: 1_000 } });
    await fail(added);
    added.reconfigure({ failureRate: rate });
    await fail(added);
    expect(added.state()).toBe('closed');
  });
});

describe('call deadlines', () => {
  it('a call started by another call’s timeout (from its abort listener) does not delay the deadline of a call already waiting', async () => {
    const { breaker, clock } = testBreaker({ callTimeoutMs: 50, tolerance: { failures: 100, windowMs: 1_000 } });
    const never = () => new Promise<never>(() => undefined);
    let third: Promise<unknown> | undefined;
    const first = breaker
      .call((signal) => {
        signal.addEventListener('abort', () => {
          third = breaker.call(never).catch((error: unknown) => error);
        });
        return never();
      })
      .catch((error: unknown) => error);
    clock.advance(10);
    let secondSettledAt: number | undefined;
    const second = breaker
      .call(never)
      .catch((error: unknown) => error)
      .finally(() => (secondSettledAt = clock.now()));
    clock.advance(40);
    expect((await first as { code?: string }).code).toBe('ERR_BREAKER_TIMEOUT');
    expect(third).toBeDefined();
    clock.advance(10);
    expect((await second as { code?: string }).code).toBe('ERR_BREAKER_TIMEOUT');
    expect(secondSettledAt).toBe(60);
    clock.advance(40);
    expect((await third! as { code?: string }).code).toBe('ERR_BREAKER_TIMEOUT');
    expect(clock.pendingTimers()).toBe(0);
  });
});
