import { ConfigError, InvalidArgumentError } from '../../core/index.js';
import type { MetricDefinition, MetricType } from './definition.js';

/**
 * How metric definitions map onto Prometheus names, checked when metrics are defined and
 * registered so that a scrape never meets a name it cannot write: label names follow the label
 * grammar, counters end in `_total`, time is in `_seconds` and sizes in `_bytes`, and no two
 * families of one registry share a sample name.
 */

/**
 * The Prometheus name of a dotted metric name: `breaker.call.duration` → `breaker_call_duration`.
 * A `name` that is not a string throws `InvalidArgumentError`.
 */
export function prometheusName(name: string): string {
  if (typeof name !== 'string') throw new InvalidArgumentError('prometheusName.name', name, 'a metric name (a string)');
  const replaced = name.replace(/[^A-Za-z0-9_:]/g, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/**
 * The Prometheus label name of a tag (a metadata key): every character outside `[A-Za-z0-9_]`
 * becomes `_` (colons included: they are not allowed in label names), and a leading digit gets a
 * `_` in front.
 */
export function prometheusLabelName(tag: string): string {
  const replaced = tag.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** A unit Prometheus names by its base unit, and how to convert a value into that base unit. */
interface BaseUnit {
  readonly suffix: '_seconds' | '_bytes';
  readonly toBase: (value: number) => number;
}

const seconds = (divisor: number): BaseUnit => ({ suffix: '_seconds', toBase: (value) => value / divisor });
const bytes = (multiplier: number): BaseUnit => ({ suffix: '_bytes', toBase: (value) => value * multiplier });

/** The units that are exported in a base unit; any other unit (or none, `undefined`) is exported as measured. */
const baseUnits: ReadonlyMap<string | undefined, BaseUnit> = new Map([
  ['nanosecond', seconds(1e9)],
  ['ns', seconds(1e9)],
  ['microsecond', seconds(1e6)],
  ['us', seconds(1e6)],
  ['millisecond', seconds(1e3)],
  ['ms', seconds(1e3)],
  ['second', seconds(1)],
  ['s', seconds(1)],
  ['byte', bytes(1)],
  ['By', bytes(1)],
  ['kilobyte', bytes(1e3)],
  ['megabyte', bytes(1e6)],
]);

const asMeasured = (value: number): number => value;

/**
 * Labels the exporter writes itself (`le` on histogram buckets, `quantile` on summary quantiles); a
 * tag may not take their names on any metric (on other types promtool flags them as confusing).
 */
const reservedLabels: readonly string[] = ['le', 'quantile'];

/** How one metric is written in the Prometheus text format. */
export interface PrometheusFamily {
  /** The family name: sanitised, `_total` for counters, the base unit's suffix for measurements. */
  readonly name: string;
  /** The label name of each tag, in the order of `definition.tags`. */
  readonly labelNames: readonly string[];
  /** Every sample name the family writes (`name`, or `name_bucket`, `name_sum`, `name_count`). */
  readonly sampleNames: readonly string[];
  /** Converts a measured value into the family's unit (ms → s, kB → B); identity otherwise. */
  readonly toBase: (value: number) => number;
}

function withSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) ? name : `${name}${suffix}`;
}

/**
 * The family name of a metric: a counter `a.b.count` is `a_b_total`, any other counter `a.b.c`
 * is `a_b_c_total`; a measurement in a known time or size unit gets `_seconds` or `_bytes`
 * (`breaker.call.duration` in milliseconds is `breaker_call_duration_seconds`).
 */
function familyName(type: MetricType, name: string, unit: BaseUnit | undefined): string {
  const base = prometheusName(name);
  if (type === 'counter') {
    if (base.endsWith('_total')) return base;
    return `${base.endsWith('_count') ? base.slice(0, -'_count'.length) : base}_total`;
  }
  return unit === undefined ? base : withSuffix(base, unit.suffix);
}

function sampleNamesOf(type: MetricType, name: string): string[] {
  switch (type) {
    case 'summary':
      return [name, `${name}_sum`, `${name}_count`];
    case 'distribution':
      return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
    default:
      return [name];
  }
}

/**
 * The label names of a metric's tags, refusing (with a `ConfigError` naming `tags`) tags that
 * would write an invalid or ambiguous sample: two tags with one label name once sanitised
 * (`a.b` and `a_b`), a label name reserved by Prometheus (`__` prefix) or by the metric type
 * (`le` and `quantile`, which histograms and summaries write).
 */
export function labelNamesOf(type: MetricType, tags: readonly string[]): string[] {
  const seen = new Map<string, string>();
  return tags.map((tag) => {
    const label = prometheusLabelName(tag);
    if (label.startsWith('__')) {
      throw new ConfigError('tags', tags, `tags whose label names do not start with "__" (reserved by Prometheus); "${tag}" gives "${label}"`);
    }
    if (reservedLabels.includes(label)) {
      throw new ConfigError('tags', tags, `no tag named "${label}" on a ${type} (histograms and summaries write that label)`);
    }
    const earlier = seen.get(label);
    if (earlier !== undefined) {
      throw new ConfigError('tags', tags, `tags with distinct label names; "${earlier}" and "${tag}" are both "${label}"`);
    }
    seen.set(label, tag);
    return label;
  });
}

const families = new WeakMap<MetricDefinition, PrometheusFamily>();

/** How `definition` is written in the Prometheus text format (computed once per definition). */
export function prometheusFamily(definition: MetricDefinition): PrometheusFamily {
  let family = families.get(definition);
  if (family === undefined) {
    const unit = definition.type === 'counter' ? undefined : baseUnits.get(definition.unit);
    const name = familyName(definition.type, definition.name, unit);
    family = Object.freeze({
      name,
      labelNames: Object.freeze(labelNamesOf(definition.type, definition.tags)),
      sampleNames: Object.freeze(sampleNamesOf(definition.type, name)),
      toBase: unit?.toBase ?? asMeasured,
    });
    families.set(definition, family);
  }
  return family;
}

/** The family that counts, per metric, the events refused because the metric had `maxSeries` series. */
export const droppedSeriesFamily = Object.freeze({
  name: 'overseer_metric_series_dropped_total',
  help: 'Events not counted because their metric already had maxSeries series, by metric',
  label: 'metric',
});

/**
 * The names a family claims in an exposition: its own, its sample names and, for a counter, the
 * name without `_total` (the family name OpenMetrics gives it).
 */
function claimedNames(family: PrometheusFamily, type: MetricType): string[] {
  const names = new Set([family.name, ...family.sampleNames]);
  if (type === 'counter') names.add(family.name.slice(0, -'_total'.length));
  return [...names];
}

/**
 * Refuses, with a `ConfigError` naming `option`, a set of metrics two of which would claim the
 * same Prometheus name (`a.b.c` and `a_b.c`; a counter `x.count` and a gauge `x.total`; a
 * histogram `x.y` and a gauge `x.y.count`): Prometheus rejects a scrape holding both.
 */
export function checkDistinctFamilies(definitions: readonly MetricDefinition[], option: string, prefix: string): void {
  const dropped = `${prefix}${droppedSeriesFamily.name}`;
  const owners = new Map<string, string>([
    [dropped, 'the dropped-series counter'],
    [dropped.slice(0, -'_total'.length), 'the dropped-series counter'],
  ]);
  for (const definition of definitions) {
    const claimed = claimedNames(prometheusFamily(definition), definition.type).map((name) => `${prefix}${name}`);
    for (const name of claimed) {
      const owner = owners.get(name);
      if (owner !== undefined) {
        throw new ConfigError(option, definition.name, `metrics whose Prometheus names differ; "${definition.name}" and ${owner} both claim "${name}"`);
      }
    }
    for (const name of claimed) owners.set(name, `"${definition.name}"`);
  }
}
