import { defineMetric, type MetricOptions } from './definition.js';
import { metricOperator, type Accumulator, type Metric } from './metric-operator.js';

function sumAccumulator(): Accumulator {
  let total = 0;
  return { add: (value) => void (total += value), read: () => ({ kind: 'scalar', value: total }) };
}

/**
 * Adds up a measurement, per combination of tag values.
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(sum('limiter.hit.cost', { tags: ['limiter'] }))
 * ```
 */
export function sum(name: string, options?: MetricOptions): Metric {
  return metricOperator(defineMetric('sum', name, options), sumAccumulator);
}
