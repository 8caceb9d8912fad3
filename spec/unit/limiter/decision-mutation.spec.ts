import { describe, expect, it } from 'vitest';
import { createRateLimiter, createTestClock } from '../../../src/index.js';
import { AdmittedDecisions } from '../../../src/limiter/decision.js';

describe('admitted decisions of one limit', () => {
  it('share one frozen decision per count up to 1024', () => {
    const decisions = new AdmittedDecisions(5000);
    for (const count of [1, 2, 1023, 1024]) {
      const first = decisions.of(count);
      expect(first).toEqual({ allowed: true, count, remaining: 5000 - count });
      expect(Object.isFrozen(first)).toBe(true);
      expect(decisions.of(count)).toBe(first);
    }
  });

  it('build a fresh decision per hit for counts above 1024', () => {
    const decisions = new AdmittedDecisions(5000);
    for (const count of [1025, 2000, 5000]) {
      const first = decisions.of(count);
      expect(first).toEqual({ allowed: true, count, remaining: 5000 - count });
      expect(Object.isFrozen(first)).toBe(true);
      expect(decisions.of(count)).not.toBe(first);
      expect(decisions.of(count)).toEqual(first);
    }
  });

  it('take the largest limits the options accept without sizing anything by the limit', () => {
    for (const limit of [2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const decisions = new AdmittedDecisions(limit);
      expect(decisions.of(1)).toEqual({ allowed: true, count: 1, remaining: limit - 1 });
      expect(decisions.of(1)).toBe(decisions.of(1));
    }
  });

  it('a fixed window limiter answers two keys at the same count with the same decision, even with a limit of 2^53 - 1', () => {
    const clock = createTestClock();
    const limiter = createRateLimiter({ name: 'huge', limit: Number.MAX_SAFE_INTEGER, windowMs: 1000, clock });
    const first = limiter.hitSync('a');
    expect(first).toEqual({ allowed: true, count: 1, remaining: Number.MAX_SAFE_INTEGER - 1 });
    expect(limiter.hitSync('b')).toBe(first);
    limiter.stop();
  });
});
