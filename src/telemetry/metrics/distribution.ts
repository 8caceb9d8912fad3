import { ConfigError } from '../../core/index.js';
import { record } from '../../core/validate.js';
import { defineMetric, type MetricOptions } from './definition.js';
import { metricOperator, type Accumulator, type Metric } from './metric-operator.js';

/** Options of {@link distribution}. */
export interface DistributionOptions extends MetricOptions {
  /** Upper bounds of the buckets, strictly ascending and finite; `+Inf` is added. Required. */
  buckets: readonly number[];
}

/** The index of the first bucket whose upper bound is >= value (`bounds.length` for +Inf). */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (bounds[middle]! >= value) high = middle;
    else low = middle + 1;
  }
  return low;
}

function distributionAccumulator(bounds: readonly number[]): () => Accumulator {
  return () => {
    const counts = new Array<number>(bounds.length + 1).fill(0);
    let count = 0;
    let total = 0;
    return {
      add(value) {
        counts[bucketIndex(bounds, value)]! += 1;
        count += 1;
        total += value;
      },
      read: () => ({
        kind: 'distribution',
        count,
        sum: total,
        buckets: counts.map((bucketCount, index) => ({
          le: index < bounds.length ? bounds[index]! : Number.POSITIVE_INFINITY,
          count: bucketCount,
        })),
      }),
    };
  };
}

/**
 * Counts a measurement into fixed buckets per combination of tag values (a histogram).
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(distribution('pool.checkout.duration', { buckets: [1, 5, 25, 100] }))
 * ```
 */
export function distribution(name: string, options: DistributionOptions): Metric {
  const buckets = record('options', options).buckets as DistributionOptions['buckets'];
  const ascending =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every((bound, index) => Number.isFinite(bound) && (index === 0 || bound > buckets[index - 1]!));
  if (!ascending) throw new ConfigError('buckets', buckets, 'a non-empty array of finite, strictly ascending numbers');
  return metricOperator(defineMetric('distribution', name, options, { buckets }), distributionAccumulator(buckets));
}
