import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveBackoff, upLongEnoughToReset } from '../../../src/supervisor/backoff.js';

const exact = resolveBackoff('backoff', { minMs: 100, maxMs: 1000, randomFactor: 0 })!;
const zero = () => 0;

describe('backoffDelay: the n-th consecutive restart waits min(maxMs, minMs·2ⁿ) × (1 + u·randomFactor)', () => {
  it('doubles from minMs and stops at maxMs', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((attempt) => backoffDelay(attempt, exact, zero))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
  });

  it('adds the jitter after the cap (Akka): a capped delay still varies', () => {
    const jittered = resolveBackoff('backoff', { minMs: 100, maxMs: 1000, randomFactor: 0.5 })!;
    expect(backoffDelay(0, jittered, () => 0.5)).toBe(125);
    expect(backoffDelay(10, jittered, () => 0.5)).toBe(1250);
    expect(backoffDelay(10, jittered, () => 0)).toBe(1000);
  });

  it('stays within [base, base × (1 + randomFactor)) for u uniform in [0, 1)', () => {
    const jittered = resolveBackoff('backoff', { minMs: 10, maxMs: 10_000, randomFactor: 0.2 })!;
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const base = Math.min(10_000, 10 * 2 ** attempt);
      for (let draw = 0; draw < 50; draw += 1) {
        const delay = backoffDelay(attempt, jittered, Math.random);
        expect(delay).toBeGreaterThanOrEqual(base);
        expect(delay).toBeLessThan(base * 1.2);
      }
    }
  });

  it('falls back to maxMs when minMs·2ⁿ overflows', () => {
    expect(backoffDelay(1024, exact, zero)).toBe(1000);
    expect(backoffDelay(5000, exact, zero)).toBe(1000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, exact, zero)).toBe(1000);
  });

  it('clamps a random source that leaves [0, 1): NaN and below 0 count as 0, 1 and above as 1', () => {
    const jittered = resolveBackoff('backoff', { minMs: 100, maxMs: 100, randomFactor: 1 })!;
    expect(backoffDelay(0, jittered, () => Number.NaN)).toBe(100);
    expect(backoffDelay(0, jittered, () => -3)).toBe(100);
    expect(backoffDelay(0, jittered, () => 7)).toBe(200);
  });
});

describe('resetAfterMs: a child that stayed up that long starts again at minMs', () => {
  it('defaults to (minMs + maxMs) / 2', () => {
    expect(exact.resetAfterMs).toBe(550);
    expect(upLongEnoughToReset(549, exact)).toBe(false);
    expect(upLongEnoughToReset(550, exact)).toBe(true);
  });
});

describe('randomFactor', () => {
  it('defaults to 0.2', () => {
    expect(resolveBackoff('backoff', { minMs: 1, maxMs: 2 })!.randomFactor).toBe(0.2);
  });
});
