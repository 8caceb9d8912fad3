import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createRateLimiter, createTelemetry, createTestClock, type Clock } from '../../../src/index.js';
import { admitted, limitExceeded } from '../../../src/limiter/decision.js';
import { SHARDS, shardOf } from '../../../src/limiter/memory/keyed-limiter.js';
import { SettledDecisions } from '../../../src/limiter/memory/settled-decisions.js';
import { ALGORITHMS, memoryLimiter } from '../../support/limiter.js';

/**
 * A test clock whose readings can also be stepped, back or forward, without running any timer:
 * what an adjusted wall clock does under a running process, or a timer that fires a little early.
 */
function steppableClock(startMs: number) {
  const base = createTestClock();
  let offset = startMs;
  const clock: Clock = {
    now: () => base.now() + offset,
    setTimeout: (fn, ms) => base.setTimeout(fn, ms),
    clearTimeout: (handle) => base.clearTimeout(handle),
  };
  return {
    clock,
    /** Moves time forward, running the timers due. */
    advance: (ms: number) => base.advance(ms),
    /** Moves the readings by `ms` (negative: back) and runs nothing. */
    step: (ms: number) => {
      offset += ms;
    },
    pendingTimers: () => base.pendingTimers(),
  };
}

describe("the embedded fixed window's timer", () => {
  it('is one per window, however many hits one key takes', () => {
    const { limiter, clock } = memoryLimiter({ limit: 5 });
    for (let hit = 0; hit < 4; hit += 1) limiter.hitSync('a');
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(1000);
    clock.advance(1000);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fired early (the clock still in the window) waits for the rest of the window and keeps the counts', () => {
    const { clock, advance, step, pendingTimers } = steppableClock(0);
    const limiter = createRateLimiter({ name: 'early', limit: 3, windowMs: 1000, clock });
    limiter.hitSync('a');
    step(-1);
    advance(1000);
    expect(clock.now()).toBe(999);
    expect(pendingTimers()).toBe(1);
    expect(limiter.hitSync('a')).toEqual({ allowed: true, count: 2, remaining: 1 });
    advance(1);
    expect(pendingTimers()).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('fired early with no key left (all reset) arms nothing more', async () => {
    const { clock, advance, step, pendingTimers } = steppableClock(0);
    const limiter = createRateLimiter({ name: 'early', limit: 3, windowMs: 1000, clock });
    limiter.hitSync('a');
    await limiter.reset('a');
    step(-1);
    advance(1000);
    expect(clock.now()).toBe(999);
    expect(pendingTimers()).toBe(0);
  });

  it('fired with the clock stepped back into an earlier window drops the counts and arms nothing more', () => {
    const { clock, advance, step, pendingTimers } = steppableClock(1500);
    const limiter = createRateLimiter({ name: 'back', limit: 3, windowMs: 1000, clock });
    limiter.hitSync('a');
    step(-1500);
    advance(500);
    expect(clock.now()).toBe(500);
    expect(pendingTimers()).toBe(0);
    expect(limiter.hitSync('a')).toEqual({ allowed: true, count: 1, remaining: 2 });
  });

  it('fired with the clock stepped back to the first instant of the window keeps the counts', () => {
    const { clock, advance, step, pendingTimers } = steppableClock(1500);
    const limiter = createRateLimiter({ name: 'back', limit: 3, windowMs: 1000, clock });
    limiter.hitSync('a');
    step(-1000);
    advance(500);
    expect(clock.now()).toBe(1000);
    expect(pendingTimers()).toBe(1);
    expect(limiter.hitSync('a')).toEqual({ allowed: true, count: 2, remaining: 1 });
  });

  it('is cancelled by a new windowMs, and the next hit arms one for the new window', () => {
    const { limiter, clock } = memoryLimiter({ limit: 3 });
    limiter.hitSync('a');
    limiter.reconfigure({ windowMs: 5000 });
    expect(clock.pendingTimers()).toBe(0);
    expect(limiter.hitSync('a')).toEqual({ allowed: true, count: 1, remaining: 2 });
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(5000);
  });
});

describe("the embedded fixed window's size", () => {
  it('counts only the current window, also when no timer dropped the counts (after stop)', () => {
    const { limiter, clock } = memoryLimiter({ limit: 3 });
    limiter.hitSync('a');
    limiter.hitSync('b');
    limiter.stop();
    clock.advance(999);
    expect(limiter.size).toBe(2);
    clock.advance(1);
    expect(limiter.size).toBe(0);
  });

  it('counts afresh once the clock stepped back into an earlier window', () => {
    const { clock, step } = steppableClock(1500);
    const limiter = createRateLimiter({ name: 'back', limit: 3, windowMs: 1000, clock });
    limiter.hitSync('a');
    step(-1000);
    expect(limiter.size).toBe(0);
  });
});

describe('the embedded limiter without an observer', () => {
  it.each(ALGORITHMS)('%s builds no limiter.hit event: admitted, denied or refused for its cost', (algorithm) => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const emit = vi.spyOn(telemetry, 'emit');
    const limiter = createRateLimiter({ name: 'quiet', algorithm, limit: 2, windowMs: 1000, clock, telemetry });
    expect(limiter.hitSync('a').allowed).toBe(true);
    expect(limiter.hitSync('a').allowed).toBe(true);
    expect(limiter.hitSync('a').allowed).toBe(false);
    expect(limiter.hitSync('a', 3)).toMatchObject({ allowed: false, reason: 'cost_exceeds_limit' });
    expect(emit).not.toHaveBeenCalled();
    const subscription = telemetry.events$.subscribe(() => undefined);
    limiter.hitSync('b');
    subscription.unsubscribe();
    expect(emit).toHaveBeenCalledTimes(1);
  });
});

describe("the embedded fixed window's settled promises", () => {
  it('are the same promise for every admitted hit with the same shared decision', async () => {
    const { limiter } = memoryLimiter({ limit: 3 });
    const first = limiter.hit('a');
    expect(limiter.hit('b')).toBe(first);
    expect(await first).toEqual({ allowed: true, count: 1, remaining: 2 });
    const second = limiter.hit('a');
    expect(second).not.toBe(first);
    expect(limiter.hit('b')).toBe(second);
    expect(await second).toEqual({ allowed: true, count: 2, remaining: 1 });
  });

  it('are shared up to count 1,024; each hit above gets its own', async () => {
    const { limiter } = memoryLimiter({ limit: 2000 });
    const shared = limiter.hit('a', 1024);
    expect(limiter.hit('b', 1024)).toBe(shared);
    expect(await shared).toEqual({ allowed: true, count: 1024, remaining: 976 });
    const own = limiter.hit('c', 1025);
    expect(limiter.hit('d', 1025)).not.toBe(own);
    expect(await own).toEqual({ allowed: true, count: 1025, remaining: 975 });
  });

  it('carry the new decision after a new limit', async () => {
    const { limiter } = memoryLimiter({ limit: 2 });
    const before = limiter.hit('a');
    limiter.reconfigure({ limit: 5 });
    const after = limiter.hit('b');
    expect(after).not.toBe(before);
    expect(await after).toEqual({ allowed: true, count: 1, remaining: 4 });
    expect(await before).toEqual({ allowed: true, count: 1, remaining: 1 });
  });

  it('stay shared across a reconfiguration that keeps the limit', () => {
    const { limiter } = memoryLimiter({ limit: 2 });
    const first = limiter.hit('a');
    limiter.reconfigure({ telemetryKeys: true });
    expect(limiter.hit('b')).toBe(first);
    limiter.reconfigure({ limit: 2 });
    expect(limiter.hit('c')).toBe(first);
  });

  it.each([2 ** 32 - 1, Number.MAX_SAFE_INTEGER])('are given for a limit of %d, as large as the options allow', async (limit) => {
    const { limiter } = memoryLimiter({ limit });
    expect(await limiter.hit('a')).toEqual({ allowed: true, count: 1, remaining: limit - 1 });
    expect(await limiter.hit('a', 1025)).toEqual({ allowed: true, count: 1026, remaining: limit - 1026 });
  });
});

describe('SettledDecisions', () => {
  it('keeps no promise for a denial: each call gets its own, even for the same denial', async () => {
    const settled = new SettledDecisions();
    const denial = limitExceeded(250);
    const first = settled.of(denial, 5);
    expect(settled.of(denial, 5)).not.toBe(first);
    expect(await first).toBe(denial);
  });

  it('keeps no promise for an admitted decision above count 1,024: each call gets its own', async () => {
    const settled = new SettledDecisions();
    const decision = admitted(1025, 0);
    const first = settled.of(decision, 1025);
    expect(settled.of(decision, 1025)).not.toBe(first);
    expect(await first).toBe(decision);
  });
});

describe("the keyed limiters' maps", () => {
  it('pick the map from the last and middle characters and the length: (last + 31 · middle + length) mod 16', () => {
    expect(SHARDS).toBe(16);
    const cases: Array<[string, number]> = [
      ['', 0],
      ['a', 1],
      ['ab', 2],
      ['abc', 4],
      ['user-42', 7],
      ['10.0.0.1', 11],
    ];
    for (const [key, shard] of cases) expect(shardOf(key), key).toBe(shard);
  });

  it.each([
    ['zero-padded ids', (i: number) => String(i).padStart(6, '0')],
    ['prefixed ids', (i: number) => `user:${i}`],
    ['IPv4 addresses', (i: number) => `10.0.${i >> 8}.${i & 255}`],
    ['hex digests', (i: number) => createHash('sha1').update(String(i)).digest('hex')],
  ])('spread %s over all sixteen maps, none holding more than an eighth', (_, keyOf) => {
    const keys = 10_000;
    const perShard = new Array<number>(SHARDS).fill(0);
    for (let i = 0; i < keys; i += 1) perShard[shardOf(keyOf(i))]! += 1;
    expect(Math.min(...perShard)).toBeGreaterThan(0);
    expect(Math.max(...perShard)).toBeLessThanOrEqual(keys / 8);
  });
});
