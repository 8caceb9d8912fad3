import { ConfigError } from '../../core/index.js';
import { integer } from '../../core/validate.js';
import type { TelemetryEvent } from '../telemetry.js';
import { labelNamesOf } from './prometheus-naming.js';

/** The kinds of metric, as in Elixir's Telemetry.Metrics. */
export type MetricType = 'counter' | 'sum' | 'last_value' | 'summary' | 'distribution';

/** Options shared by every metric. */
export interface MetricOptions {
  /**
   * Metadata keys whose values split the metric into series. Default none. Each becomes a
   * Prometheus label (characters outside `[A-Za-z0-9_]` turn into `_`); tags that would give one
   * label name twice, a `__` label, `le` or `quantile` (the exporter's own labels) are refused.
   * Tag only by values from a small set: a per-request or per-child id makes a series each.
   */
  tags?: readonly string[];
  /**
   * The most series (combinations of tag values) the metric keeps. An event that would start
   * another one is not counted, and is counted instead in `droppedSeries` (exported as
   * `overseer_metric_series_dropped_total{metric}`). Default 2000.
   */
  maxSeries?: number;
  /** The event to listen to. Default: the metric name without its last segment. */
  event?: string;
  /** The measurement to read, or a function computing it. Default: the metric name's last segment. */
  measurement?: string | ((event: TelemetryEvent) => number | undefined);
  /** Only events for which this returns true count. Default: all. */
  keep?: (event: TelemetryEvent) => boolean;
  /** Human text for the exporter's HELP line. */
  description?: string;
  /**
   * The unit of the measurement, e.g. `'millisecond'`. Time units (`'nanosecond'`,
   * `'microsecond'`, `'millisecond'`, `'second'`) are exported to Prometheus in seconds with a
   * `_seconds` suffix, sizes (`'byte'`, `'kilobyte'`, `'megabyte'`) in bytes with `_bytes`;
   * other units are exported as measured. Default none.
   */
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
  /** The most series the metric keeps; see {@link MetricOptions.maxSeries}. */
  readonly maxSeries: number;
  readonly buckets?: readonly number[];
  readonly readMeasurement: (event: TelemetryEvent) => number | undefined;
  readonly keep: ((event: TelemetryEvent) => boolean) | undefined;
}

/** The default of {@link MetricOptions.maxSeries}. */
export const defaultMaxSeries = 2000;

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
  labelNamesOf(type, tags);
  const maxSeries = integer('maxSeries', options.maxSeries, defaultMaxSeries, 1);
  if (options.unit !== undefined && (typeof options.unit !== 'string' || options.unit.length === 0)) {
    throw new ConfigError('unit', options.unit, 'a non-empty string such as "millisecond"');
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
    maxSeries,
    ...(extra.buckets ? { buckets: Object.freeze([...extra.buckets]) } : {}),
    readMeasurement,
    keep: options.keep,
  });
}
