import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/index.js';
import type { BreakerOpenError } from '../../../src/breaker/index.js';
import { fail, outcome, succeed, testBreaker } from '../../support/breaker.js';

describe('reconfigure (hot reload)', () => {
  it('keeps an open breaker open with its reset timer; the new resetMs applies from the next opening', async () => {
    const { breaker, clock } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
    await outcome(breaker.call(fail));
    clock.advance(40);
    breaker.reconfigure({ resetMs: 500 });
    expect(breaker.state()).toBe('open');
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(60);
    expect(breaker.state()).toBe('half_open');
    await outcome(breaker.call(fail));
    clock.advance(499);
    expect(breaker.state()).toBe('open');
    clock.advance(1);
    expect(breaker.state()).toBe('half_open');
  });

  it('keeps counted failures counted', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 3, windowMs: 1000 } });
    await outcome(breaker.call(fail));
    await outcome(breaker.call(fail));
    breaker.reconfigure({ tolerance: { failures: 2, windowMs: 1000 } });
    expect(breaker.state()).toBe('closed');
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('drops counted failures that fall outside a shorter window', async () => {
    const { breaker, clock } = testBreaker({ tolerance: { failures: 1, windowMs: 1000 } });
    await outcome(breaker.call(fail));
    clock.advance(300);
    breaker.reconfigure({ tolerance: { failures: 1, windowMs: 200 } });
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
  });

  it('keeps the rate window when its length is unchanged', async () => {
    const { breaker } = testBreaker({
      tolerance: { failures: 100, windowMs: 1000 },
      failureRate: { threshold: 0.9, minimumCalls: 4, windowMs: 1000 },
    });
    for (let index = 0; index < 3; index += 1) await outcome(breaker.call(fail));
    breaker.reconfigure({ failureRate: { threshold: 0.5, minimumCalls: 4, windowMs: 1000 } });
    await outcome(breaker.call(succeed));
    expect(breaker.state()).toBe('closed');
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
  });

  it('changes halfOpenProbes and callTimeoutMs live', async () => {
    const { breaker, clock } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 10, halfOpenProbes: 3 });
    await outcome(breaker.call(fail));
    clock.advance(10);
    breaker.reconfigure({ halfOpenProbes: 1, callTimeoutMs: 5 });
    await breaker.call(succeed);
    expect(breaker.state()).toBe('closed');
    const slow = breaker.call(() => new Promise(() => undefined));
    clock.advance(5);
    expect(await outcome(slow)).toBe('ERR_BREAKER_TIMEOUT');
  });

  it('rejects an invalid patch whole and changes nothing', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 1, windowMs: 1000 }, resetMs: 100 });
    await outcome(breaker.call(fail));
    expect(() => breaker.reconfigure({ resetMs: 5, halfOpenProbes: 0 })).toThrow(ConfigError);
    expect(() => breaker.reconfigure({ name: 'other' } as never)).toThrow(ConfigError);
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
    const refusal = (await breaker.call(succeed).catch((error: unknown) => error)) as { retryAfterMs: number };
    expect(refusal.retryAfterMs).toBe(100);
  });
});

describe('retryAfterMs after a hot reload', () => {
  const refusal = async (breaker: { call(fn: () => unknown): Promise<unknown> }) =>
    (await breaker.call(succeed).catch((error: unknown) => error)) as BreakerOpenError;

  for (const resetMs of [500, 10]) {
    it(`is the time until the breaker really goes half_open after reconfigure({ resetMs: ${resetMs} }) while open`, async () => {
      const { breaker, clock } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
      await outcome(breaker.call(fail));
      clock.advance(20);
      const before = await refusal(breaker);
      clock.advance(20);
      breaker.reconfigure({ resetMs });
      expect((await refusal(breaker)).retryAfterMs).toBe(60);
      expect(before.retryAfterMs).toBe(60);
      clock.advance(59);
      expect(breaker.state()).toBe('open');
      expect((await refusal(breaker)).retryAfterMs).toBe(1);
      clock.advance(1);
      expect(breaker.state()).toBe('half_open');
      await outcome(breaker.call(fail));
      expect((await refusal(breaker)).retryAfterMs).toBe(resetMs);
      clock.advance(resetMs);
      expect(breaker.state()).toBe('half_open');
    });
  }

  it('is the time until half_open when the breaker reopens after a reload made while closed', async () => {
    const { breaker, clock } = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
    breaker.reconfigure({ resetMs: 40 });
    await outcome(breaker.call(fail));
    clock.advance(15);
    expect((await refusal(breaker)).retryAfterMs).toBe(25);
    clock.advance(25);
    expect(breaker.state()).toBe('half_open');
  });
});
