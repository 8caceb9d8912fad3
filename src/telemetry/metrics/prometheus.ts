import type { MetricSnapshot, SeriesSnapshot } from './snapshot.js';

/** The Prometheus name of a dotted metric name: `breaker.call.duration` → `breaker_call_duration`. */
export function prometheusName(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_:]/g, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function labels(tags: Readonly<Record<string, string>>, extra?: readonly [string, string]): string {
  const parts = Object.entries(tags).map(([key, value]) => `${prometheusName(key)}="${escapeLabelValue(value)}"`);
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

function seriesLines(name: string, series: SeriesSnapshot): string[] {
  const { tags, value } = series;
  switch (value.kind) {
    case 'scalar':
      return [`${name}${labels(tags)} ${formatNumber(value.value)}`];
    case 'summary':
      return [
        `${name}${labels(tags, ['quantile', '0.5'])} ${formatNumber(value.p50)}`,
        `${name}${labels(tags, ['quantile', '0.9'])} ${formatNumber(value.p90)}`,
        `${name}${labels(tags, ['quantile', '0.99'])} ${formatNumber(value.p99)}`,
        `${name}_sum${labels(tags)} ${formatNumber(value.sum)}`,
        `${name}_count${labels(tags)} ${formatNumber(value.count)}`,
      ];
    case 'distribution': {
      let cumulative = 0;
      const lines = value.buckets.map((bucket) => {
        cumulative += bucket.count;
        return `${name}_bucket${labels(tags, ['le', formatNumber(bucket.le)])} ${cumulative}`;
      });
      lines.push(`${name}_sum${labels(tags)} ${formatNumber(value.sum)}`, `${name}_count${labels(tags)} ${value.count}`);
      return lines;
    }
  }
}

/**
 * Renders metric snapshots in the Prometheus text exposition format (version 0.0.4): a `# HELP`
 * and `# TYPE` line per metric, then one line per series. Counters are `counter`, sums and last
 * values `gauge`, summaries `summary` (quantiles 0.5, 0.9, 0.99, `_sum`, `_count`) and
 * distributions `histogram` (cumulative `_bucket{le}`, `_sum`, `_count`).
 *
 * @example
 * ```ts
 * response.setHeader('content-type', 'text/plain; version=0.0.4');
 * response.end(toPrometheus(registry.snapshot()));
 * ```
 */
export function toPrometheus(snapshot: MetricSnapshot | readonly MetricSnapshot[]): string {
  const metrics: readonly MetricSnapshot[] = Array.isArray(snapshot) ? snapshot : [snapshot as MetricSnapshot];
  const lines: string[] = [];
  for (const metric of metrics) {
    const name = prometheusName(metric.definition.name);
    lines.push(`# HELP ${name} ${escapeHelp(metric.definition.description)}`);
    lines.push(`# TYPE ${name} ${prometheusType[metric.definition.type]}`);
    for (const series of metric.series) lines.push(...seriesLines(name, series));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
