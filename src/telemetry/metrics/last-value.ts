import { defineMetric, type MetricOptions } from './definition.js';
import { metricOperator, type Accumulator, type Metric } from './metric-operator.js';

function lastValueAccumulator(): Accumulator {
  let last = 0;
  return { add: (value) => void (last = value), read: () => ({ kind: 'scalar', value: last }) };
}

/**
 * Keeps the latest value of a measurement, per combination of tag values (a gauge).
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(lastValue('pool.checkout.waiting', { tags: ['pool'] }))
 * ```
 */
export function lastValue(name: string, options?: MetricOptions): Metric {
  return metricOperator(defineMetric('last_value', name, options), lastValueAccumulator);
}
