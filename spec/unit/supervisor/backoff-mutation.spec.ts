import { describe, expect, it } from 'vitest';
import { isConfigError, type ConfigError } from '../../../src/index.js';
import { backoffDelay, resolveBackoff, sameBackoff, type ResolvedBackoff } from '../../../src/supervisor/backoff.js';

function refusal(value: unknown): ConfigError {
  try {
    resolveBackoff('children[0].backoff', value);
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('resolveBackoff: a refused field is named, with what it expected', () => {
  it('minMs must be a finite number above 0', () => {
    for (const minMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '100', undefined]) {
      const error = refusal({ minMs, maxMs: 1000 });
      expect(error.option).toBe('children[0].backoff.minMs');
      expect(error.message).toContain('expected a finite number > 0');
    }
  });

  it('maxMs must be finite and at least minMs, and the message says which minMs', () => {
    for (const maxMs of [99, Number.POSITIVE_INFINITY, Number.NaN, '1000', undefined]) {
      const error = refusal({ minMs: 100, maxMs });
      expect(error.option).toBe('children[0].backoff.maxMs');
      expect(error.message).toContain('expected a finite number >= minMs (100)');
    }
    expect(resolveBackoff('backoff', { minMs: 100, maxMs: 100 })?.maxMs).toBe(100);
  });

  it('randomFactor must lie in [0, 1]', () => {
    for (const randomFactor of [-0.1, 1.5, Number.NaN, '0.5']) {
      const error = refusal({ minMs: 100, maxMs: 1000, randomFactor });
      expect(error.option).toBe('children[0].backoff.randomFactor');
      expect(error.message).toContain('expected a number in [0, 1]');
    }
    expect(resolveBackoff('backoff', { minMs: 100, maxMs: 1000, randomFactor: 0 })?.randomFactor).toBe(0);
    expect(resolveBackoff('backoff', { minMs: 100, maxMs: 1000, randomFactor: 1 })?.randomFactor).toBe(1);
  });

  it('resetAfterMs must be a finite number >= 0', () => {
    for (const resetAfterMs of [-1, Number.POSITIVE_INFINITY, '10']) {
      const error = refusal({ minMs: 100, maxMs: 1000, resetAfterMs });
      expect(error.option).toBe('children[0].backoff.resetAfterMs');
      expect(error.message).toContain('expected a finite number >= 0');
    }
    expect(resolveBackoff('backoff', { minMs: 100, maxMs: 1000, resetAfterMs: 0 })?.resetAfterMs).toBe(0);
  });
});

describe('sameBackoff: two backoffs are alike when every field is equal', () => {
  const base = resolveBackoff('backoff', { minMs: 100, maxMs: 1000, randomFactor: 0.2, resetAfterMs: 500 })!;
  const copy = (patch: Partial<ResolvedBackoff> = {}): ResolvedBackoff => ({ ...base, ...patch });

  it('holds for the same backoff, for an equal copy, and for two absent ones', () => {
    expect(sameBackoff(base, base)).toBe(true);
    expect(sameBackoff(base, copy())).toBe(true);
    expect(sameBackoff(undefined, undefined)).toBe(true);
  });

  it('fails when only one is given', () => {
    expect(sameBackoff(base, undefined)).toBe(false);
    expect(sameBackoff(undefined, base)).toBe(false);
  });

  it('fails when any one field differs', () => {
    expect(sameBackoff(base, copy({ minMs: 101 }))).toBe(false);
    expect(sameBackoff(base, copy({ maxMs: 1001 }))).toBe(false);
    expect(sameBackoff(base, copy({ randomFactor: 0.3 }))).toBe(false);
    expect(sameBackoff(base, copy({ resetAfterMs: 501 }))).toBe(false);
  });
});

describe('backoffDelay without jitter', () => {
  it('draws nothing from random when randomFactor is 0, so other children keep their draws', () => {
    const exact = resolveBackoff('backoff', { minMs: 100, maxMs: 1000, randomFactor: 0 })!;
    let draws = 0;
    const random = () => {
      draws += 1;
      return 0.5;
    };
    expect(backoffDelay(2, exact, random)).toBe(400);
    expect(draws).toBe(0);
  });
});
