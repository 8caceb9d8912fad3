import { integer } from '../../core/validate.js';
import { defineMetric, type MetricOptions } from './definition.js';
import { metricOperator, type Accumulator, type Metric } from './metric-operator.js';

/** Options of {@link summary}. */
export interface SummaryOptions extends MetricOptions {
  /** How many of the most recent values the quantiles are computed over. Default 1024. */
  maxSamples?: number;
}

/** The value at quantile `q` of ascending `sorted` values (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

function summaryAccumulator(maxSamples: number): () => Accumulator {
  return () => {
    let count = 0;
    let total = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    const recent = new Float64Array(maxSamples);
    return {
      add(value) {
        recent[count % maxSamples] = value;
        count += 1;
        total += value;
        if (value < min) min = value;
        if (value > max) max = value;
      },
      read() {
        const sorted = recent.slice(0, Math.min(count, maxSamples)).sort();
        return {
          kind: 'summary',
          count,
          sum: total,
          min: count === 0 ? 0 : min,
          max: count === 0 ? 0 : max,
          mean: count === 0 ? 0 : total / count,
          p50: quantile(sorted, 0.5),
          p90: quantile(sorted, 0.9),
          p99: quantile(sorted, 0.99),
        };
      },
    };
  };
}

/**
 * Summarises a measurement per combination of tag values: count, sum, min, max and mean over
 * every value, and p50, p90, p99 over the most recent `maxSamples` values (bounded memory).
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(summary('breaker.call.duration', { tags: ['breaker', 'outcome'] }))
 * ```
 */
export function summary(name: string, options: SummaryOptions = {}): Metric {
  const maxSamples = integer('maxSamples', options.maxSamples, 1024, 1);
  return metricOperator(defineMetric('summary', name, options), summaryAccumulator(maxSamples));
}
