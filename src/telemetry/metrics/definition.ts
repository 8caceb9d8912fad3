import { ConfigError } from '../../core/index.js';
import type { TelemetryEvent } from '../telemetry.js';

/** The kinds of metric, as in Elixir's Telemetry.Metrics. */
export type MetricType = 'counter' | 'sum' | 'last_value' | 'summary' | 'distribution';

/** Options shared by every metric. */
export interface MetricOptions {
  /** Metadata keys whose values split the metric into series. Default none. */
  tags?: readonly string[];
  /** The event to listen to. Default: the metric name without its last segment. */
  event?: string;
  /** The measurement to read, or a function computing it. Default: the metric name's last segment. */
  measurement?: string | ((event: TelemetryEvent) => number | undefined);
  /** Only events for which this returns true count. Default: all. */
  keep?: (event: TelemetryEvent) => boolean;
  /** Human text for the exporter's HELP line. */
  description?: string;
  /** The unit of the measurement, e.g. `'millisecond'`. */
  unit?: string;
}

/** A metric's resolved definition; exporters read it. */
export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly event: string;
  readonly tags: readonly string[];
  readonly description: string;
  readonly unit: string | undefined;
  readonly buckets?: readonly number[];
  readonly readMeasurement: (event: TelemetryEvent) => number | undefined;
  readonly keep: ((event: TelemetryEvent) => boolean) | undefined;
}

/** Resolves a metric name and its options into a frozen definition. */
export function defineMetric(
  type: MetricType,
  name: string,
  options: MetricOptions = {},
  extra: { buckets?: readonly number[] } = {},
): MetricDefinition {
  if (typeof name !== 'string' || !/^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$/.test(name)) {
    throw new ConfigError('name', name, 'a dotted metric name such as "breaker.call.duration"');
  }
  const lastDot = name.lastIndexOf('.');
  const event = options.event ?? name.slice(0, lastDot);
  const measurement = options.measurement ?? name.slice(lastDot + 1);
  const tags = options.tags ?? [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag.length === 0)) {
    throw new ConfigError('tags', tags, 'an array of metadata keys');
  }
  const readMeasurement =
    typeof measurement === 'function'
      ? measurement
      : (telemetryEvent: TelemetryEvent) => telemetryEvent.measurements[measurement];
  return Object.freeze({
    name,
    type,
    event,
    tags: Object.freeze([...tags]),
    description: options.description ?? `${type} of ${event}`,
    unit: options.unit,
    ...(extra.buckets ? { buckets: Object.freeze([...extra.buckets]) } : {}),
    readMeasurement,
    keep: options.keep,
  });
}
