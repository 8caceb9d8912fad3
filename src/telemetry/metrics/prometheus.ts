import { InvalidArgumentError } from '../../core/index.js';
import { droppedSeriesFamily, prometheusFamily, prometheusName, type PrometheusFamily } from './prometheus-naming.js';
import type { MetricSnapshot, SeriesSnapshot } from './snapshot.js';

export { prometheusName };

/** Whether `value` has the shape of a metric snapshot: a definition object and an array of series. */
function isSnapshot(value: unknown): value is MetricSnapshot {
  const snapshot = value as Partial<MetricSnapshot> | null;
  return (
    typeof snapshot === 'object' &&
    snapshot !== null &&
    typeof snapshot.definition === 'object' &&
    snapshot.definition !== null &&
    Array.isArray(snapshot.series)
  );
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it: `+Inf`, `-Inf`, and `NaN` (which `String` already gives). */
function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `{label="value",…}` of a series' tags (in the family's label names), plus one exporter label. */
function labels(family: PrometheusFamily, tags: readonly string[], series: SeriesSnapshot, extra?: readonly [string, string]): string {
  const parts: string[] = [];
  for (let index = 0; index < tags.length; index += 1) {
    parts.push(`${family.labelNames[index]}="${escapeLabelValue(series.tags[tags[index]!] ?? '')}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

const prometheusType = {
  counter: 'counter',
  sum: 'gauge',
  last_value: 'gauge',
  summary: 'summary',
  distribution: 'histogram',
} as const;

function seriesLines(family: PrometheusFamily, tags: readonly string[], series: SeriesSnapshot): string[] {
  const { name, toBase } = family;
  const { value } = series;
  const plain = labels(family, tags, series);
  switch (value.kind) {
    case 'scalar':
      return [`${name}${plain} ${formatNumber(toBase(value.value))}`];
    case 'summary':
      return [
        `${name}${labels(family, tags, series, ['quantile', '0.5'])} ${formatNumber(toBase(value.p50))}`,
        `${name}${labels(family, tags, series, ['quantile', '0.9'])} ${formatNumber(toBase(value.p90))}`,
        `${name}${labels(family, tags, series, ['quantile', '0.99'])} ${formatNumber(toBase(value.p99))}`,
        `${name}_sum${plain} ${formatNumber(toBase(value.sum))}`,
        `${name}_count${plain} ${formatNumber(value.count)}`,
      ];
    case 'distribution': {
      let cumulative = 0;
      const lines = value.buckets.map((bucket) => {
        cumulative += bucket.count;
        return `${name}_bucket${labels(family, tags, series, ['le', formatNumber(toBase(bucket.le))])} ${cumulative}`;
      });
      lines.push(`${name}_sum${plain} ${formatNumber(toBase(value.sum))}`, `${name}_count${plain} ${value.count}`);
      return lines;
    }
  }
}

/**
 * Renders metric snapshots in the Prometheus text exposition format (version 0.0.4): a `# HELP`
 * and `# TYPE` line per metric, then one line per series. Counters are `counter` named `…_total`
 * (`breaker.call.count` → `breaker_call_total`), sums and last values `gauge`, summaries `summary`
 * (quantiles 0.5, 0.9, 0.99, `_sum`, `_count`) and distributions `histogram` (cumulative
 * `_bucket{le}`, `_sum`, `_count`); a measurement in a time unit is written in seconds with a
 * `_seconds` suffix, one in a size unit in bytes with `_bytes`. Tags become labels with names
 * valid in Prometheus. Metrics that dropped events at their `maxSeries` cap are counted in
 * `overseer_metric_series_dropped_total{metric}`.
 *
 * The names are checked when the metrics are defined and started (`startMetrics` refuses two
 * metrics with one Prometheus name); should snapshots gathered elsewhere still collide, the later
 * metric is left out with a comment line, so that the scrape stays valid. Anything that is not a
 * snapshot (or an array of them) throws `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * response.setHeader('content-type', 'text/plain; version=0.0.4');
 * response.end(toPrometheus(registry.snapshot()));
 * ```
 */
export function toPrometheus(snapshot: MetricSnapshot | readonly MetricSnapshot[]): string {
  const metrics: readonly MetricSnapshot[] = Array.isArray(snapshot) ? snapshot : [snapshot as MetricSnapshot];
  metrics.forEach((metric, index) => {
    if (!isSnapshot(metric)) {
      const argument = Array.isArray(snapshot) ? `toPrometheus.snapshot[${index}]` : 'toPrometheus.snapshot';
      throw new InvalidArgumentError(argument, metric, 'a metric snapshot (registry.snapshot() gives them)');
    }
  });
  const lines: string[] = [];
  const written = new Set<string>([droppedSeriesFamily.name]);
  const dropped: [family: string, count: number][] = [];
  for (const metric of metrics) {
    const { definition } = metric;
    let family: PrometheusFamily;
    try {
      family = prometheusFamily(definition);
    } catch (error) {
      // Only a definition built by hand, not by defineMetric, can get here: skip it, keep the scrape.
      lines.push(`# overseer: metric ${prometheusName(String(definition.name))} left out: ${error instanceof Error ? error.message.replace(/\n/g, ' ') : 'invalid'}`);
      continue;
    }
    const claimed = [family.name, ...family.sampleNames];
    if (claimed.some((name) => written.has(name))) {
      lines.push(`# overseer: ${family.name} (metric ${definition.name}) left out: another metric of this scrape has its name`);
      continue;
    }
    for (const name of claimed) written.add(name);
    lines.push(`# HELP ${family.name} ${escapeHelp(definition.description)}`);
    lines.push(`# TYPE ${family.name} ${prometheusType[definition.type]}`);
    for (const series of metric.series) lines.push(...seriesLines(family, definition.tags, series));
    if ((metric.droppedSeries ?? 0) > 0) dropped.push([family.name, metric.droppedSeries!]);
  }
  if (dropped.length > 0) {
    lines.push(`# HELP ${droppedSeriesFamily.name} ${droppedSeriesFamily.help}`);
    lines.push(`# TYPE ${droppedSeriesFamily.name} counter`);
    for (const [family, count] of dropped) lines.push(`${droppedSeriesFamily.name}{${droppedSeriesFamily.label}="${family}"} ${count}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
