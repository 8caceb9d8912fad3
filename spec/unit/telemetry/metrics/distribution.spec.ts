import { describe, expect, it } from 'vitest';
import { ConfigError, distribution, type DistributionValue } from '../../../../src/index.js';
import { harness } from './metric-harness.js';

function histogram(values: readonly number[], buckets: readonly number[]): DistributionValue {
  const metric = harness(distribution('pool.checkout.duration', { buckets }));
  for (const duration of values) metric.emit('pool.checkout', { duration, waiting: 0 });
  const value = metric.snapshot().series[0]!.value;
  if (value.kind !== 'distribution') throw new Error(`expected a distribution, got ${value.kind}`);
  return value;
}

describe('distribution counts each value into the first bucket whose bound is >= it', () => {
  it('puts a value equal to a bound into that bucket, and just above it into the next', () => {
    expect(histogram([1, 1.0001, 5, 5.5, 10], [1, 5, 10])).toEqual({
      kind: 'distribution',
      count: 5,
      sum: 22.5001,
      buckets: [
        { le: 1, count: 1 },
        { le: 5, count: 2 },
        { le: 10, count: 2 },
        { le: Number.POSITIVE_INFINITY, count: 0 },
      ],
    });
  });

  it('puts values above the last bound into the +Inf bucket, and values below the first into the first', () => {
    expect(histogram([-3, 0, 11, 1e9, Number.POSITIVE_INFINITY], [0, 10]).buckets).toEqual([
      { le: 0, count: 2 },
      { le: 10, count: 0 },
      { le: Number.POSITIVE_INFINITY, count: 3 },
    ]);
  });

  it('keeps per-bucket (non-cumulative) counts, with +Inf always last', () => {
    const value = histogram([0.5, 2, 2, 3, 7, 7, 7, 50], [1, 2.5, 5, 10]);
    expect(value.buckets.map((bucket) => bucket.count)).toEqual([1, 2, 1, 3, 1]);
    expect(value.buckets.map((bucket) => bucket.le)).toEqual([1, 2.5, 5, 10, Number.POSITIVE_INFINITY]);
    expect(value.count).toBe(8);
    expect(value.sum).toBe(78.5);
  });

  it('works with a single bound', () => {
    expect(histogram([1, 2, 3], [2]).buckets).toEqual([
      { le: 2, count: 2 },
      { le: Number.POSITIVE_INFINITY, count: 1 },
    ]);
  });
});

describe('distribution keeps a separate histogram per combination of tag values and skips unmeasured events', () => {
  it('splits by pool and ignores checkouts without a duration', () => {
    const metric = harness(distribution('pool.checkout.duration', { buckets: [10, 100], tags: ['pool'] }));
    metric.emit('pool.checkout', { duration: 5 }, { pool: 'db' });
    metric.emit('pool.checkout', { duration: 50 }, { pool: 'cache' });
    metric.emit('pool.checkout', { waiting: 2 }, { pool: 'db' });
    metric.emit('pool.checkout', { duration: 500 }, { pool: 'db' });
    expect(metric.readings).toHaveLength(3);
    expect(metric.values()).toEqual({
      db: {
        kind: 'distribution',
        count: 2,
        sum: 505,
        buckets: [
          { le: 10, count: 1 },
          { le: 100, count: 0 },
          { le: Number.POSITIVE_INFINITY, count: 1 },
        ],
      },
      cache: {
        kind: 'distribution',
        count: 1,
        sum: 50,
        buckets: [
          { le: 10, count: 0 },
          { le: 100, count: 1 },
          { le: Number.POSITIVE_INFINITY, count: 0 },
        ],
      },
    });
  });

  it('records its buckets in the definition, frozen', () => {
    const bounds = [1, 2];
    const metric = distribution('pool.checkout.duration', { buckets: bounds });
    bounds.push(3);
    expect(metric.definition.buckets).toEqual([1, 2]);
    expect(Object.isFrozen(metric.definition.buckets)).toBe(true);
  });
});

describe('distribution rejects bucket bounds that are not finite and strictly ascending', () => {
  it.each([
    ['empty', []],
    ['descending', [5, 1]],
    ['repeated', [1, 1, 2]],
    ['not ascending later on', [1, 5, 3]],
    ['NaN', [1, Number.NaN]],
    ['+Infinity', [1, Number.POSITIVE_INFINITY]],
    ['-Infinity', [Number.NEGATIVE_INFINITY, 1]],
    ['not an array', 5],
    ['missing', undefined],
  ])('%s → ConfigError naming buckets', (_label, buckets) => {
    let thrown: unknown;
    try {
      distribution('pool.checkout.duration', { buckets } as unknown as { buckets: number[] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).code).toBe('ERR_CONFIG');
    expect((thrown as ConfigError).option).toBe('buckets');
    expect((thrown as ConfigError).message).toContain('buckets');
  });
});
