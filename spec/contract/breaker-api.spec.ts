import { describe, expect, expectTypeOf, it } from 'vitest';
import * as overseer from '../../src/index.js';
import type { Breaker, BreakerOptions, BreakerState, ChildSpec } from '../../src/index.js';

describe('contract: Circuit breaker', () => {
  it('exports createBreaker, breakerChild, BreakerOpenError and the machine', () => {
    expect(typeof overseer.createBreaker).toBe('function');
    expect(typeof overseer.breakerChild).toBe('function');
    expect(typeof overseer.BreakerOpenError).toBe('function');
    expect(overseer.breakerMachine.id).toBe('breaker');
    expect(Object.keys(overseer.breakerMachine.states).sort()).toEqual(['closed', 'disabled', 'half_open', 'open']);
  });

  it('a breaker has name, actor, state, call, melt, reset, disable, enable, stats', () => {
    const breaker = overseer.createBreaker({ name: 'shape' });
    expect(breaker.name).toBe('shape');
    expect(typeof breaker.actor.send).toBe('function');
    for (const method of ['state', 'call', 'melt', 'reset', 'disable', 'enable', 'stats'] as const) {
      expect(typeof breaker[method]).toBe('function');
    }
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats()).toEqual({ successes: 0, failures: 0, rejected: 0, opened: 0 });
    expectTypeOf(breaker.call<number>).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf<BreakerState>().toEqualTypeOf<'closed' | 'open' | 'half_open' | 'disabled'>();
  });

  it('BreakerOpenError has code, breaker and retryAfterMs', () => {
    const error = new overseer.BreakerOpenError('b', 5, 'open');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'ERR_BREAKER_OPEN', breaker: 'b', retryAfterMs: 5 });
    expect(overseer.isBreakerOpenError(error)).toBe(true);
  });

  it('a call without a function rejects with BreakerArgumentError, a TypeError with a code and a guard', async () => {
    const breaker = overseer.createBreaker({ name: 'misuse' });
    const error = await breaker.call(undefined as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(overseer.BreakerArgumentError);
    expect(error).toMatchObject({ code: 'ERR_BREAKER_ARGUMENT', breaker: 'misuse', argument: 'fn' });
    expect(overseer.isBreakerArgumentError(error)).toBe(true);
    expect(breaker.stats()).toEqual({ successes: 0, failures: 0, rejected: 0, opened: 0 });
  });

  it('breakerChild returns a ChildSpec whose id is the name', () => {
    const spec = overseer.breakerChild({ name: 'child', restart: 'transient', shutdown: 10 });
    expect(spec).toMatchObject({ id: 'child', restart: 'transient', shutdown: 10 });
    expect(typeof spec.start).toBe('function');
    expectTypeOf(spec).toMatchTypeOf<ChildSpec & { id: string }>();
  });

  it('options carry the contract fields', () => {
    expectTypeOf<BreakerOptions>().toHaveProperty('tolerance').toEqualTypeOf<{ failures: number; windowMs: number } | undefined>();
    expectTypeOf<BreakerOptions>().toHaveProperty('resetMs').toEqualTypeOf<number | undefined>();
    expectTypeOf<BreakerOptions>().toHaveProperty('halfOpenProbes').toEqualTypeOf<number | undefined>();
    expectTypeOf<BreakerOptions>().toHaveProperty('callTimeoutMs').toEqualTypeOf<number | undefined>();
    expectTypeOf<Breaker>().toHaveProperty('melt').toEqualTypeOf<() => void>();
  });
});
