import { ConfigError } from '../../core/index.js';
import { integer, record } from '../../core/validate.js';
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
  /**
   * The event to listen to, or several: a gauge of a state that several events change (a lease's
   * `lease.acquired` … `lease.released`) listens to each and reads its value from each with a
   * `measurement` function. Default: the metric name without its last segment.
   */
  event?: string | readonly string[];
  /** The measurement to read, or a function computing it. Default: the metric name's last segment. */
  measurement?: string | ((event: TelemetryEvent) => number | undefined);
  /** Only events for which this returns true count. Default: all. */
  keep?: (event: TelemetryEvent) => boolean;
  /** Human text for the exporter's HELP line. Default `'<type> of <event>'`. */
  description?: string;
  /**
   * The unit of the measurement, e.g. `'millisecond'`. Time units (`'nanosecond'`,
   * `'microsecond'`, `'millisecond'`, `'second'`) are exported to Prometheus in seconds with a
   * `_seconds` suffix, sizes (`'byte'`, `'kilobyte'`, `'megabyte'`) in bytes with `_bytes`;
   * other units are exported as measured. Default none.
   */
  unit?: string;
}

/**
 * A metric's resolved definition: its options with every default filled in, frozen. Exporters
 * (`toPrometheus`, the OpenTelemetry and prom-client bridges) read it to name and describe the
 * metric; read it yourself when writing an exporter of your own.
 */
export interface MetricDefinition {
  /** The dotted metric name it was created with, e.g. `'breaker.call.duration'`. */
  readonly name: string;
  /** Which kind of metric it is (see {@link MetricType}). */
  readonly type: MetricType;
  /** The telemetry event it listens to (`options.event`, or the name without its last segment); the first, when it listens to several. */
  readonly event: string;
  /** Every event it listens to, `event` first (one, unless `options.event` named several). */
  readonly events: readonly string[];
  /** The metadata keys that split it into series (`options.tags`; empty for one series). */
  readonly tags: readonly string[];
  /** The HELP text (`options.description`, or `'<type> of <event>'`). */
  readonly description: string;
  /** The measurement's unit (`options.unit`), or `undefined` when none was given. */
  readonly unit: string | undefined;
  /** The most series the metric keeps; `options.maxSeries`, default 2000. */
  readonly maxSeries: number;
  /** A distribution's bucket upper bounds, ascending, without the `+Inf` one; absent for the other kinds. */
  readonly buckets?: readonly number[];
  /**
   * Reads the measurement from an event: `options.measurement` when it is a function, else the
   * event's measurement of that name (the name's last segment by default). An event it reads no
   * number from is not counted (a counter counts events and never reads it).
   */
  readonly readMeasurement: (event: TelemetryEvent) => number | undefined;
  /** The event filter (`options.keep`), or `undefined` when every event counts. */
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
  record('options', options);
  const lastDot = name.lastIndexOf('.');
  const given: unknown = options.event ?? name.slice(0, lastDot);
  const events = typeof given === 'string' ? [given] : Array.isArray(given) ? [...new Set<unknown>(given)] : [];
  if (events.length === 0 || events.some((each) => typeof each !== 'string' || each.length === 0)) {
    throw new ConfigError('event', options.event, 'an event name (a non-empty string), or a non-empty array of them');
  }
  const event = events[0] as string;
  const measurement = options.measurement ?? name.slice(lastDot + 1);
  if (typeof measurement !== 'string' && typeof measurement !== 'function') {
    throw new ConfigError('measurement', measurement, 'a measurement name or a function (event) => number');
  }
  if (options.keep !== undefined && typeof options.keep !== 'function') throw new ConfigError('keep', options.keep, 'a function (event) => boolean');
  if (options.description !== undefined && typeof options.description !== 'string') throw new ConfigError('description', options.description, 'a string');
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
    events: Object.freeze(events as string[]),
    tags: Object.freeze([...tags]),
    description: options.description ?? `${type} of ${event}`,
    unit: options.unit,
    maxSeries,
    ...(extra.buckets ? { buckets: Object.freeze([...extra.buckets]) } : {}),
    readMeasurement,
    keep: options.keep,
  });
}
