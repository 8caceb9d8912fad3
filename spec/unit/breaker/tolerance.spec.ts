import { describe, expect, it } from 'vitest';
import { CountTolerance, RateTolerance } from '../../../src/breaker/tolerance.js';
import { createBreaker } from '../../../src/breaker/index.js';
import { ConfigError } from '../../../src/index.js';
import { fail, outcome, succeed, testBreaker } from '../../support/breaker.js';

describe("fuse's count tolerance", () => {
  it('tolerance 2 in a 60 ms window: two failures leave it closed, the third opens it', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 2, windowMs: 60 } });
    await outcome(breaker.call(fail));
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('after reset it is closed, and stats count', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 2, windowMs: 60 } });
    for (let index = 0; index < 3; index += 1) await outcome(breaker.call(fail));
    await outcome(breaker.call(succeed));
    breaker.reset();
    expect(breaker.state()).toBe('closed');
    expect(await outcome(breaker.call(succeed))).toBe('ok');
    expect(breaker.stats()).toEqual({ successes: 1, failures: 3, rejected: 1, opened: 1 });
  });

  it('drops a failure once now - t >= windowMs', async () => {
    const { breaker, clock } = testBreaker({ tolerance: { failures: 2, windowMs: 60 } });
    await outcome(breaker.call(fail));
    await outcome(breaker.call(fail));
    clock.advance(60);
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
  });

  it('keeps a failure while now - t < windowMs', async () => {
    const { breaker, clock } = testBreaker({ tolerance: { failures: 2, windowMs: 60 } });
    await outcome(breaker.call(fail));
    await outcome(breaker.call(fail));
    clock.advance(59);
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('failures: 0 opens on the first failure', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 } });
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('successes do not wipe the failure history (fuse counts melts only)', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 1, windowMs: 1000 } });
    await outcome(breaker.call(fail));
    await outcome(breaker.call(succeed));
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('melt records one failure by hand', () => {
    const { breaker } = testBreaker({ tolerance: { failures: 1, windowMs: 1000 } });
    breaker.melt();
    expect(breaker.state()).toBe('closed');
    breaker.melt();
    expect(breaker.state()).toBe('open');
    expect(breaker.stats().failures).toBe(2);
  });

  it('CountTolerance keeps only the newest failures + 1 stamps', () => {
    const tolerance = new CountTolerance(3, 100);
    expect([0, 10, 20].map((now) => tolerance.failure(now))).toEqual([false, false, false]);
    expect(tolerance.failure(30)).toBe(true);
    expect(tolerance.recorded).toBe(4);
    expect(tolerance.failure(40)).toBe(true);
    expect(tolerance.recorded).toBe(4);
    expect(tolerance.failure(115)).toBe(true);
    expect(tolerance.recorded).toBe(4);
    expect(tolerance.failure(200)).toBe(false);
    expect(tolerance.recorded).toBe(2);
  });
});

describe('tolerance.failures of any size', () => {
  it('is accepted up to Number.MAX_SAFE_INTEGER, and a larger one is a ConfigError naming the option', () => {
    for (const failures of [1e12, Number.MAX_SAFE_INTEGER]) {
      let breaker: ReturnType<typeof createBreaker> | undefined;
      expect(() => (breaker = createBreaker({ name: 'huge', tolerance: { failures, windowMs: 1000 } }))).not.toThrow();
      for (let index = 0; index < 1000; index += 1) breaker!.melt();
      expect(breaker!.state()).toBe('closed');
    }
    expect(() => createBreaker({ name: 'x', tolerance: { failures: 2 ** 53, windowMs: 1000 } })).toThrow(ConfigError);
    expect(() => createBreaker({ name: 'x', tolerance: { failures: 2 ** 53, windowMs: 1000 } })).toThrow('tolerance.failures');
  });

  it('reserves no memory for it: the failure history grows only with the failures actually held', () => {
    const before = process.memoryUsage().arrayBuffers;
    const breakers = [5e7, 1e9].map((failures) => createBreaker({ name: 'huge', tolerance: { failures, windowMs: 1000 } }));
    const tolerances = [new CountTolerance(5e7, 1000), new CountTolerance(1e9, 1000)];
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    for (let index = 0; index < 100; index += 1) tolerances[0]!.failure(index);
    for (const breaker of breakers) breaker.melt();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    expect(tolerances[0]!.recorded).toBe(100);
  });

  it('keeps exact fuse semantics with a tolerance far larger than the failures held', () => {
    const tolerance = new CountTolerance(1e12, 100);
    for (let index = 0; index < 1000; index += 1) expect(tolerance.failure(index * 0.1)).toBe(false);
    expect(tolerance.recorded).toBe(1000);
    expect(tolerance.failure(100)).toBe(false);
    expect(tolerance.recorded).toBe(1000);
  });
});

describe('failure-rate tolerance', () => {
  it('opens when the ratio reaches the threshold once minimumCalls were seen', async () => {
    const { breaker } = testBreaker({
      tolerance: { failures: 100, windowMs: 1000 },
      failureRate: { threshold: 0.5, minimumCalls: 4, windowMs: 1000 },
    });
    await outcome(breaker.call(fail));
    await outcome(breaker.call(fail));
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
    await outcome(breaker.call(succeed));
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('stays closed below the threshold', async () => {
    const { breaker } = testBreaker({
      tolerance: { failures: 100, windowMs: 1000 },
      failureRate: { threshold: 0.5, minimumCalls: 4, windowMs: 1000 },
    });
    for (let index = 0; index < 6; index += 1) await outcome(breaker.call(succeed));
    for (let index = 0; index < 5; index += 1) await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('forgets calls that left the rolling window', () => {
    const tolerance = new RateTolerance(0.5, 2, 1000);
    tolerance.success(0);
    tolerance.success(50);
    expect(tolerance.failure(100)).toBe(false);
    expect(tolerance.failure(1100)).toBe(false);
    expect(tolerance.failure(1150)).toBe(true);
  });
});
