import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantileSketch, emptyBuckets, quantilesOf } from '../../../../src/telemetry/metrics/quantile-sketch.js';

function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function bucketsOf(sketch: QuantileSketch) {
  const buckets = emptyBuckets();
  sketch.mergeInto(buckets);
  return buckets;
}

describe('a DDSketch keeps memory bounded by the range of values, not their number', () => {
  it('a million values between 1 µs and 1 hour (in ms) fill fewer than 1,100 buckets at 1 %', () => {
    const sketch = new QuantileSketch(0.01, 2048);
    let value = 0.001;
    for (let index = 0; index < 1_000_000; index += 1) {
      sketch.add(value);
      value = value * 1.37 > 3_600_000 ? 0.001 : value * 1.37;
    }
    const buckets = bucketsOf(sketch);
    expect(buckets.count).toBe(1_000_000);
    // log(3.6e9) / log(1.0202) ≈ 1,100: one bucket per 2 % of range at most.
    expect(buckets.positive.size).toBeLessThanOrEqual(1_100);
  });

  it('property: past maxBuckets the buckets nearest zero merge, and every quantile above them stays within accuracy', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-200, max: 1e200, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 2, max: 40 }),
        (values, maxBuckets) => {
          const sketch = new QuantileSketch(0.01, maxBuckets);
          for (const value of values) sketch.add(value);
          const buckets = bucketsOf(sketch);
          expect(buckets.positive.size).toBeLessThanOrEqual(maxBuckets);
          expect([...buckets.positive.values()].reduce((a, b) => a + b, 0)).toBe(values.length);
          const sorted = [...values].sort((a, b) => a - b);
          // Values in the collapsed (lowest) bucket are reported high; the ranks above it are exact to 1 %.
          const lowestKept = Math.min(...buckets.positive.keys());
          const collapsedCount = buckets.positive.get(lowestKept)!;
          for (const q of [0.5, 0.9, 0.99, 1]) {
            if (Math.ceil(q * values.length) <= collapsedCount) continue;
            const [estimate] = quantilesOf(buckets, [q], (index) => sketch.valueOf(index));
            const exact = nearestRank(sorted, q);
            expect(Math.abs(estimate! - exact) <= 0.01 * exact * (1 + 1e-9)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('infinities are counted at the ends', () => {
    const sketch = new QuantileSketch(0.01, 2048);
    for (const value of [Number.NEGATIVE_INFINITY, 1, 2, 3, Number.POSITIVE_INFINITY]) sketch.add(value);
    const buckets = bucketsOf(sketch);
    expect(quantilesOf(buckets, [0, 0.5, 1], (index) => sketch.valueOf(index))).toEqual([Number.NEGATIVE_INFINITY, expect.closeTo(2, 1), Number.POSITIVE_INFINITY]);
  });
});
