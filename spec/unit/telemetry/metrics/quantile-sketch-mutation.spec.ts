import { describe, expect, it } from 'vitest';
import { summary } from '../../../../src/index.js';
import { accumulatorOf } from '../../../../src/telemetry/metrics/metric-operator.js';
import { QuantileSketch, emptyBuckets, quantilesOf } from '../../../../src/telemetry/metrics/quantile-sketch.js';

function quantiles(sketch: QuantileSketch, qs: readonly number[]): number[] {
  const buckets = emptyBuckets();
  sketch.mergeInto(buckets);
  return quantilesOf(buckets, qs, (index) => sketch.valueOf(index));
}

function sketchOf(maxBuckets: number, values: readonly number[]): QuantileSketch {
  const sketch = new QuantileSketch(0.01, maxBuckets);
  for (const value of values) sketch.add(value);
  return sketch;
}

describe('a quantile sketch', () => {
  it('of no values gives zero for every quantile', () => {
    expect(quantilesOf(emptyBuckets(), [0, 0.5, 1], () => 1)).toEqual([0, 0, 0]);
  });

  it('counts zeros apart from positive values, so merging buckets near zero keeps them', () => {
    // Two buckets at most: 1 and 100 fill them; the zeros must not take a third.
    expect(quantiles(sketchOf(2, [0, 0, 1, 100]), [0.5])).toEqual([0]);
  });

  it('counts zeros apart from negative values too', () => {
    expect(quantiles(sketchOf(2, [0, 0, -1, -100]), [0.75])).toEqual([0]);
  });

  it('places zeros between negative and positive values', () => {
    expect(quantiles(sketchOf(8, [-5, 0, 0, 0, 5]), [0.4, 0.6, 0.8])).toEqual([0, 0, 0]);
  });

  it('merges buckets only once it holds more than maxBuckets of them', () => {
    // Exactly two buckets fit: the median stays in the lower one (clamped to the exact min).
    expect(quantiles(sketchOf(2, [1, 1, 100, 100]), [0.5])).toEqual([1]);
  });

  it('keeps the exact min and max, also across merged sketches', () => {
    const buckets = emptyBuckets();
    sketchOf(8, [3, -2, 7]).mergeInto(buckets);
    sketchOf(8, [5, -9, 4]).mergeInto(buckets);
    sketchOf(8, [1, 2]).mergeInto(buckets);
    expect([buckets.min, buckets.max, buckets.count]).toEqual([-9, 7, 8]);
  });
});

describe('a summary series', () => {
  it('before any value reads all zeros', () => {
    const accumulator = accumulatorOf(summary('a.b.c'))();
    expect(accumulator.read()).toEqual({ kind: 'summary', count: 0, sum: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 });
  });

  it('reads the exact min, max and mean of every value', () => {
    const accumulator = accumulatorOf(summary('a.b.c', { maxSamples: 4 }))();
    for (const value of [5, -3, 10, 2, 8, 1]) accumulator.add(value);
    expect(accumulator.read()).toMatchObject({ count: 6, sum: 23, min: -3, max: 10, mean: 23 / 6 });
  });
});
