import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { delayUntil, nextUp } from '../../../src/limiter/algorithms/float-time.js';

describe('nextUp', () => {
  it('is the next double: greater, with nothing in between', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, max: 1e300 }), (x) => {
        const up = nextUp(x);
        expect(up).toBeGreaterThan(x);
        const middle = x / 2 + up / 2;
        expect(middle === x || middle === up).toBe(true);
      }),
    );
  });

  it('handles zero, the binade edges and subnormals', () => {
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-0)).toBe(Number.MIN_VALUE);
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextUp(-1)).toBe(-1 + Number.EPSILON / 2);
    expect(nextUp(-Number.MIN_VALUE)).toBe(-0);
    expect(nextUp(2 ** 53)).toBe(2 ** 53 + 2);
  });
});

describe('delayUntil', () => {
  it('is the least delay after which the clock reads at least the target', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.double({ min: -1e12, max: 1e12, noNaN: true }), (now, target) => {
        const delay = delayUntil(now, target);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(now + delay).toBeGreaterThanOrEqual(target);
        if (delay > 0) expect(now + (delay - delay * Number.EPSILON)).toBeLessThanOrEqual(target);
      }),
    );
  });

  it('is 0 when the target has passed', () => {
    expect(delayUntil(10, 5)).toBe(0);
    expect(delayUntil(10, 10)).toBe(0);
  });
});
