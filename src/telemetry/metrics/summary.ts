import { ConfigError } from '../../core/index.js';
import { integer, record } from '../../core/validate.js';
import { defineMetric, type MetricOptions } from './definition.js';
import { metricOperator, type Accumulator, type Metric } from './metric-operator.js';
import { QuantileSketch, emptyBuckets, quantilesOf } from './quantile-sketch.js';

/** Options of {@link summary}. */
export interface SummaryOptions extends MetricOptions {
  /**
   * How many of the most recent values the quantiles cover, at most: the window is kept as four
   * sketches of `⌊maxSamples / 4⌋` values each (`maxSamples` sketches of one value when it is
   * below 4), the oldest dropped whole, so once enough values came the quantiles cover the last
   * `3·⌊maxSamples / 4⌋ + 1` to `4·⌊maxSamples / 4⌋` of them (769 to 1024 by default).
   * Default 1024.
   */
  maxSamples?: number;
  /** The largest relative error of a quantile, in (0, 0.5]. Default 0.01 (1 %). */
  relativeAccuracy?: number;
}

/** Buckets a sketch keeps per sign before it merges the ones nearest zero. */
const maxBucketsPerSketch = 2048;
/** How many sketches a window is split into. */
const windowParts = 4;
const reported = [0.5, 0.9, 0.99] as const;

/**
 * The window of a summary: a ring of sketches, each holding `perSketch` consecutive values; when
 * the newest is full the next value starts a fresh one in the place of the oldest.
 */
function summaryAccumulator(maxSamples: number, relativeAccuracy: number): () => Accumulator {
  const parts = Math.min(windowParts, maxSamples);
  const perSketch = Math.floor(maxSamples / parts);
  return () => {
    let count = 0;
    let total = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    const ring: QuantileSketch[] = [];
    let newest = -1;
    return {
      add(value) {
        count += 1;
        total += value;
        min = Math.min(min, value);
        max = Math.max(max, value);
        let sketch = ring[newest];
        if (sketch === undefined || sketch.count >= perSketch) {
          newest = (newest + 1) % parts;
          sketch = ring[newest];
          // Stryker disable next-line ConditionalExpression: a fresh sketch and a cleared one both hold nothing; reusing it only saves an allocation
          if (sketch === undefined) ring[newest] = sketch = new QuantileSketch(relativeAccuracy, maxBucketsPerSketch);
          else sketch.clear();
        }
        sketch.add(value);
      },
      read() {
        const window = emptyBuckets();
        for (const sketch of ring) sketch.mergeInto(window);
        const [p50, p90, p99] = quantilesOf(window, reported, (index) => ring[0]!.valueOf(index));
        return {
          kind: 'summary',
          count,
          sum: total,
          min: count === 0 ? 0 : min,
          max: count === 0 ? 0 : max,
          mean: count === 0 ? 0 : total / count,
          p50: p50!,
          p90: p90!,
          p99: p99!,
        };
      },
    };
  };
}

/**
 * Summarises a measurement per combination of tag values: count, sum, min, max and mean over
 * every value, and p50, p90, p99 over about the most recent `maxSamples` values, each within
 * `relativeAccuracy` of the exact nearest-rank quantile (a DDSketch; memory grows with the
 * logarithm of the range of values, not with their number).
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(summary('breaker.call.duration', { tags: ['breaker', 'outcome'] }))
 * ```
 */
export function summary(name: string, options: SummaryOptions = {}): Metric {
  record('options', options);
  const maxSamples = integer('maxSamples', options.maxSamples, 1024, 1);
  const relativeAccuracy = options.relativeAccuracy ?? 0.01;
  if (typeof relativeAccuracy !== 'number' || !(relativeAccuracy > 0 && relativeAccuracy <= 0.5)) {
    throw new ConfigError('relativeAccuracy', options.relativeAccuracy, 'a number in (0, 0.5]');
  }
  return metricOperator(defineMetric('summary', name, options), summaryAccumulator(maxSamples, relativeAccuracy));
}
