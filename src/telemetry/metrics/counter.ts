import { defineMetric, type MetricOptions } from './definition.js';
import { metricOperator, type Accumulator, type Metric } from './metric-operator.js';

function countAccumulator(): Accumulator {
  let count = 0;
  return { add: () => void (count += 1), read: () => ({ kind: 'scalar', value: count }) };
}

/**
 * Counts events, per combination of tag values.
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(counter('supervisor.child.restarted.count', { tags: ['supervisor'] }))
 * ```
 */
export function counter(name: string, options?: MetricOptions): Metric {
  return metricOperator(defineMetric('counter', name, options), countAccumulator);
}
