import { describe, expect, it } from 'vitest';
import { createRateLimiter, createTestClock, type Clock } from '../../../src/index.js';
import { Sweeper, SWEEP_CHUNK } from '../../../src/limiter/memory/sweeper.js';
import { ALGORITHMS, memoryLimiter } from '../../support/limiter.js';

describe('hitSync', () => {
  it('answers synchronously what hit answers asynchronously', async () => {
    for (const algorithm of ALGORITHMS) {
      const { limiter } = memoryLimiter({ algorithm });
      const sync = limiter.hitSync('a');
      const promised = limiter.hit('b');
      expect(promised).toBeInstanceOf(Promise);
      expect(await promised).toEqual(sync);
    }
  });

  it('throws an InvalidArgumentError on a bad key or cost instead of rejecting', () => {
    const { limiter } = memoryLimiter();
    expect(() => limiter.hitSync(1 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'hit.key' }));
    expect(() => limiter.hitSync('a', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'hit.cost' }));
  });

  it('returns frozen decisions', () => {
    const { limiter } = memoryLimiter({ limit: 1 });
    expect(Object.isFrozen(limiter.hitSync('a'))).toBe(true);
    expect(Object.isFrozen(limiter.hitSync('a'))).toBe(true);
  });
});

describe('fixed window memory', () => {
  it("keeps only the current window's counts and drops them whole when a later window starts", () => {
    const { limiter, clock } = memoryLimiter({ limit: 5 });
    for (let key = 0; key < 100; key += 1) limiter.hitSync(`k${key}`);
    expect(limiter.size).toBe(100);
    clock.advance(999);
    expect(limiter.size).toBe(100);
    clock.advance(1);
    expect(limiter.size).toBe(0);
  });

  it('frees an idle limiter at the end of the window, by a timer, and then holds no timer', () => {
    const { limiter, clock } = memoryLimiter();
    limiter.hitSync('a');
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1000);
    expect(clock.pendingTimers()).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('waits out windows longer than a Node timer can (2^31 − 1 ms) in several timers', () => {
    const clock = createTestClock();
    const delays: number[] = [];
    const recording: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms) => (delays.push(ms), clock.setTimeout(fn, ms)),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    };
    const windowMs = 90 * 24 * 3_600_000;
    const limiter = createRateLimiter({ name: 'quarter', limit: 1, windowMs, clock: recording });
    limiter.hitSync('a');
    clock.advance(windowMs - 1);
    expect(limiter.hitSync('a').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.size).toBe(0);
    expect(delays.length).toBeGreaterThan(1);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('stop() cancels the window-end timer and keeps the counts; the next hit, on a known key too, re-arms it', () => {
    const { limiter, clock } = memoryLimiter({ limit: 3 });
    limiter.hitSync('a');
    limiter.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(limiter.hitSync('a')).toMatchObject({ allowed: true, count: 2 });
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1000);
    expect(limiter.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('arms one timer per window, however many keys', () => {
    const { limiter, clock } = memoryLimiter();
    for (let key = 0; key < 1000; key += 1) limiter.hitSync(`k${key}`);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('counts afresh when the clock steps back into another window, as Hammer keys counts by window', () => {
    let now = 1500;
    const clock: Clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
    const limiter = createRateLimiter({ name: 'back', limit: 2, windowMs: 1000, clock });
    limiter.hitSync('a');
    limiter.hitSync('a');
    now = 900;
    expect(limiter.hitSync('a')).toEqual({ allowed: true, count: 1, remaining: 1 });
  });
});

describe.each(['sliding_window', 'token_bucket', 'leaky_bucket'] as const)('%s memory', (algorithm) => {
  it('drops a key once its state is equivalent to a fresh key, and not before', () => {
    const { limiter, clock } = memoryLimiter({ algorithm, limit: 2, windowMs: 1000, sweepIntervalMs: 400 });
    limiter.hitSync('a');
    limiter.hitSync('a');
    clock.advance(400);
    expect(limiter.size).toBe(1);
    clock.advance(400);
    expect(limiter.size).toBe(1);
    clock.advance(400);
    expect(limiter.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('sweeps by default every windowMs, within [1 s, 60 s]', () => {
    for (const [windowMs, interval] of [
      [10, 1000],
      [5000, 5000],
      [3_600_000, 60_000],
    ] as const) {
      const { limiter, clock } = memoryLimiter({ algorithm, limit: 2, windowMs });
      limiter.hitSync('a');
      expect(clock.nextDue()).toBe(interval);
    }
  });

  it('never changes a decision: a swept key decides as the kept state would have', () => {
    const swept = memoryLimiter({ algorithm, limit: 3, windowMs: 1000, sweepIntervalMs: 1000 });
    const kept = memoryLimiter({ algorithm, limit: 3, windowMs: 1000, sweepIntervalMs: 1e9 });
    const steps = [0, 1, 0, 0, 700, 300, 1, 999, 2000, 0, 0, 0, 1500];
    for (const [index, step] of steps.entries()) {
      swept.clock.advance(step);
      kept.clock.advance(step);
      const cost = (index % 3) + 1;
      expect(swept.limiter.hitSync('k', cost)).toEqual(kept.limiter.hitSync('k', cost));
    }
  });

  it('stop() cancels the sweeper and keeps the state; the next hit re-arms it', () => {
    const { limiter, clock } = memoryLimiter({ algorithm, limit: 2, windowMs: 1000 });
    limiter.hitSync('a');
    limiter.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(limiter.size).toBe(1);
    expect(limiter.hitSync('a')).toMatchObject({ allowed: true, count: 2 });
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(5000);
    expect(limiter.size).toBe(0);
  });

  it('drops every expired key of a table larger than a chunk in one pass', () => {
    const { limiter, clock } = memoryLimiter({ algorithm, limit: 2, windowMs: 1000, sweepIntervalMs: 1000 });
    for (let key = 0; key < 2.5 * SWEEP_CHUNK; key += 1) limiter.hitSync(`k${key}`);
    clock.advance(999);
    expect(limiter.size).toBe(2.5 * SWEEP_CHUNK);
    // All keys are fresh from t = 1000; the pass takes three ticks (see Sweeper below).
    clock.advance(1);
    expect(limiter.size).toBe(0);
  });
});

describe('Sweeper', () => {
  /** A clock whose timers run only when the spec says. */
  function manualClock() {
    const due: Array<() => void> = [];
    const clock: Clock = {
      now: () => 0,
      setTimeout: (fn) => due.push(fn),
      clearTimeout: () => undefined,
    };
    return { clock, runNext: () => due.shift()?.(), pending: () => due.length };
  }

  it(`examines at most ${SWEEP_CHUNK} entries a tick, resuming where it stopped`, () => {
    const states = new Map<string, number>();
    for (let key = 0; key < 12_000; key += 1) states.set(`k${key}`, key);
    const examined: number[] = [];
    const { clock, runNext, pending } = manualClock();
    const sweeper = new Sweeper([states], (state: number) => (examined.push(state), state % 2 === 0), clock, 1000);
    sweeper.arm();
    sweeper.arm();
    expect(pending()).toBe(1);
    const sizes: number[] = [];
    const perTick: number[] = [];
    while (pending() > 0 && perTick.length < 10) {
      const before = examined.length;
      runNext();
      perTick.push(examined.length - before);
      sizes.push(states.size);
    }
    expect(perTick.slice(0, 3)).toEqual([5000, 5000, 2000]);
    expect(sizes.slice(0, 3)).toEqual([9500, 7000, 6000]);
    // The odd entries stay, so a new pass is scheduled.
    expect(new Set(examined.slice(0, 12_000)).size).toBe(12_000);
    sweeper.stop();
  });

  it('leaves no timer once the map is empty', () => {
    const states = new Map([['a', 1]]);
    const { clock, runNext, pending } = manualClock();
    const sweeper = new Sweeper([states], () => true, clock, 1000);
    sweeper.arm();
    runNext();
    expect(states.size).toBe(0);
    expect(pending()).toBe(0);
  });

  it('sweeps 200,000 keys in 40 ticks of 5,000 (and one that finds the end), never more in one tick', () => {
    const base = createTestClock();
    let ticks = 0;
    // The test clock, with every timer callback counted.
    const clock: Clock = {
      now: () => base.now(),
      setTimeout: (fn, ms) =>
        base.setTimeout(() => {
          ticks += 1;
          fn();
        }, ms),
      clearTimeout: (handle) => base.clearTimeout(handle),
    };
    const limiter = createRateLimiter({ name: 'big', algorithm: 'token_bucket', limit: 1, windowMs: 1000, clock });
    for (let key = 0; key < 200_000; key += 1) limiter.hitSync(`k${key}`);
    base.advance(1000);
    expect(limiter.size).toBe(0);
    // 40 slices of SWEEP_CHUNK and the one that finds the end: a tick that swept more than one
    // chunk would leave fewer ticks. (The work per slice is counted exactly in the spec above;
    // no wall-clock bound here: timing belongs in the benchmarks.)
    expect(ticks).toBe(200_000 / SWEEP_CHUNK + 1);
  });
});

describe('reconfigure', () => {
  it('a new limit applies from the next hit and keeps the counts (a token bucket keeps its tokens)', () => {
    for (const algorithm of ALGORITHMS) {
      const { limiter, clock } = memoryLimiter({ algorithm, limit: 2, windowMs: 1000 });
      limiter.hitSync('a');
      limiter.hitSync('a');
      expect(limiter.hitSync('a').allowed).toBe(false);
      limiter.reconfigure({ limit: 3 });
      // A raised capacity is room at once for the counters, and refill room for the token bucket.
      if (algorithm === 'token_bucket') clock.advance(334);
      expect(limiter.hitSync('a'), algorithm).toMatchObject({ allowed: true, count: 3, remaining: 0 });
      limiter.reconfigure({ limit: 1 });
      expect(limiter.hitSync('a').allowed).toBe(false);
    }
  });

  it('a new windowMs redefines the fixed windows (counting afresh) and keeps logs and buckets', () => {
    for (const algorithm of ALGORITHMS) {
      const { limiter } = memoryLimiter({ algorithm, limit: 2, windowMs: 1000 });
      limiter.hitSync('a');
      limiter.hitSync('a');
      limiter.reconfigure({ windowMs: 60_000 });
      expect(limiter.hitSync('a').allowed, algorithm).toBe(algorithm === 'fixed_window');
    }
  });

  it('refuses options that cannot change live, and bad values, changing nothing', () => {
    const { limiter } = memoryLimiter({ limit: 2 });
    expect(() => limiter.reconfigure({ name: 'other' } as never)).toThrow(/cannot change live/);
    expect(() => limiter.reconfigure({ limit: 0 })).toThrow(/Invalid option limit/);
    limiter.hitSync('a');
    expect(limiter.hitSync('a')).toMatchObject({ allowed: true, count: 2 });
  });
});
