/**
 * The soak's outputs besides the JSON: a markdown report (verdict, per-minute table, answers by
 * route) and a hand-written SVG plot of the samples (no browser, no plotting library).
 */
import type { FaultEvent } from './faults.js';
import type { Tally } from './load.js';
import { medianOf, type Check } from './verdict.js';

/** One sample of the back end, as the harness keeps it. */
export interface SampleRecord {
  /** s since the load started. */
  t: number;
  /** Taken while the load ran (and judged), or once it had ended (the back end idle). */
  phase: 'load' | 'after';
  heapUsed: number;
  /** `heapUsed` right after a full collection. */
  heapAfterGc: number;
  rss: number;
  gcMs: number;
  activeResources: number;
  /** `activeResources` less the server's sockets (the load's connections): the handles the back end holds itself. */
  ownHandles: number;
  resourcesByType: Record<string, number>;
  /** Event-loop delay p99 and max over the 10 s before the sample, ms. */
  eldP99: number;
  eldMax: number;
  /** Event-loop delay p99 and max since the load started, ms. */
  eldTotalP99: number;
  eldTotalMax: number;
  /** The same two p99 figures of an idle process on the same machine (bench/soak/processes.ts `IdleControl`), ms. */
  idleP99: number;
  idleTotalP99: number;
  serverSockets: number;
  upstreamSockets: number;
  breaker: string;
  /** The back end's CPU time (all threads) since the previous sample, as % of one core. */
  cpuPercent: number;
  /** The machine's 1-minute load average when the sample was taken (other processes included). */
  loadAverage: number;
  /** Raw counters the next sample's figures are computed from. */
  cpuMicros: number;
  uptimeMs: number;
}

const MiB = 1_048_576;
const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** Markdown of the per-minute table: answers and the back end's figures, minute by minute. */
export function minuteTable(samples: readonly SampleRecord[], steady: Tally, flood: Tally): string {
  const minutes = Math.max(steady.perMinute.length, flood.perMinute.length, Math.ceil(Math.max(0, ...samples.map((sample) => sample.t)) / 60));
  const lines = [
    '| minute | answered | 2xx | 429 | 503 | 502/504 | heap after GC, MiB | RSS, MiB | own handles | server sockets | all handles | ELD p99, ms (worst 10 s) | idle process ELD p99, ms (worst 10 s) | back end CPU, % of a core | load average |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (let minute = 0; minute < minutes; minute += 1) {
    const a = steady.perMinute[minute] ?? { answered: 0, ok: 0, limited: 0, unavailable: 0, upstream: 0 };
    const b = flood.perMinute[minute] ?? { answered: 0, ok: 0, limited: 0, unavailable: 0, upstream: 0 };
    // The samples of minute m are those taken at m·60 < t ≤ (m+1)·60 (the sample at t = 0 goes with the first minute).
    const inMinute = samples.filter((sample) => (minute === 0 ? sample.t <= 60 : sample.t > minute * 60 && sample.t <= (minute + 1) * 60));
    const med = (values: number[], format: (value: number) => string): string => (values.length === 0 ? '–' : format(medianOf(values)));
    lines.push(
      `| ${minute + 1} | ${a.answered + b.answered} | ${a.ok + b.ok} | ${a.limited + b.limited} | ${a.unavailable + b.unavailable} | ${a.upstream + b.upstream} | ` +
        `${med(inMinute.map((sample) => sample.heapAfterGc), mib)} | ${med(inMinute.map((sample) => sample.rss), mib)} | ` +
        `${med(inMinute.map((sample) => sample.ownHandles), (value) => String(Math.round(value)))} | ` +
        `${med(inMinute.map((sample) => sample.serverSockets), (value) => String(Math.round(value)))} | ` +
        `${med(inMinute.map((sample) => sample.activeResources), (value) => String(Math.round(value)))} | ` +
        `${inMinute.length === 0 ? '–' : Math.max(...inMinute.map((sample) => sample.eldP99)).toFixed(1)} | ` +
        `${inMinute.length === 0 ? '–' : Math.max(...inMinute.map((sample) => sample.idleP99)).toFixed(1)} | ` +
        `${med(inMinute.filter((sample) => sample.t > 0).map((sample) => sample.cpuPercent), (value) => value.toFixed(0))} | ` +
        `${med(inMinute.map((sample) => sample.loadAverage), (value) => value.toFixed(1))} |`,
    );
  }
  return lines.join('\n');
}

/** Markdown of the verdict's checks. */
export function verdictTable(checks: readonly Check[]): string {
  return [
    '| rule | measured | threshold | result |',
    '| --- | --- | --- | --- |',
    ...checks.map((check) => `| ${check.rule} | ${check.measured} | ${check.threshold} | ${check.pass ? 'pass' : '**FAIL**'} |`),
  ].join('\n');
}

/** Markdown of the answers by route and status. */
export function routeTable(steady: Tally, flood: Tally): string {
  const counts = new Map<string, Map<string, number>>();
  for (const tally of [steady, flood]) {
    for (const [key, count] of Object.entries(tally.byRouteStatus)) {
      const [route = '?', status = '?'] = key.split(' ');
      const row = counts.get(route) ?? new Map<string, number>();
      row.set(status, (row.get(status) ?? 0) + count);
      counts.set(route, row);
    }
  }
  const statuses = [...new Set([...counts.values()].flatMap((row) => [...row.keys()]))].sort();
  return [
    `| route | ${statuses.join(' | ')} |`,
    `| --- | ${statuses.map(() => '---:').join(' | ')} |`,
    ...[...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([route, row]) => `| \`${route}\` | ${statuses.map((status) => row.get(status) ?? 0).join(' | ')} |`),
  ].join('\n');
}

/** Markdown of the answers by client identity and status. */
export function clientTable(steady: Tally, flood: Tally): string {
  const rows = new Map<string, Record<string, number>>();
  for (const tally of [steady, flood]) {
    for (const [client, byStatus] of Object.entries(tally.byClientStatus)) {
      const row = rows.get(client) ?? {};
      for (const [status, count] of Object.entries(byStatus)) row[status] = (row[status] ?? 0) + count;
      rows.set(client, row);
    }
  }
  const statuses = [...new Set([...rows.values()].flatMap((row) => Object.keys(row)))].sort();
  return [
    `| client (\`x-client-id\`) | ${statuses.join(' | ')} |`,
    `| --- | ${statuses.map(() => '---:').join(' | ')} |`,
    ...[...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([client, row]) => `| ${client} | ${statuses.map((status) => row[status] ?? 0).join(' | ')} |`),
  ].join('\n');
}

// ------------------------------------------------------------------ SVG

interface Series {
  label: string;
  colour: string;
  values: ReadonlyArray<{ t: number; value: number }>;
  dashed?: boolean;
}

interface Panel {
  title: string;
  unit: string;
  series: Series[];
  /** A horizontal limit line. */
  limit?: { value: number; label: string };
}

const WIDTH = 960;
const PANEL_HEIGHT = 170;
const LEFT = 70;
const RIGHT = 20;
const TOP = 96;
const GAP = 62;

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" step (1, 2 or 5 × 10^k) giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** The colour and label of each fault kind in the plot. */
const FAULT_STYLE: Record<FaultEvent['kind'], { colour: string; label: string }> = {
  'upstream-failing': { colour: '#e45756', label: 'upstream failing' },
  'upstream-slow': { colour: '#f58518', label: 'upstream slow' },
  'upstream-recovered': { colour: '#999999', label: 'upstream recovered' },
  flood: { colour: '#4c78a8', label: 'flood over limits' },
  'redis-restart': { colour: '#b279a2', label: 'Redis restart' },
  'thread-crash': { colour: '#54a24b', label: 'thread crash' },
  'refresher-crash': { colour: '#9d755d', label: 'refresher crash' },
};

/**
 * The samples as an SVG: one panel per figure (heap, RSS, handles and sockets, event-loop delay),
 * time in minutes on the x axis, faults drawn across every panel (bands for those that last,
 * lines for the instant ones), the judged windows (second minute, last judged minute, ending at
 * `judgedEnd`) shaded grey. The last sample, taken once the load had ended, shows the back end idle.
 */
export function renderSvg(samples: readonly SampleRecord[], faults: readonly FaultEvent[], title: string, eldLimitMs: number, cores: number, judgedEnd: number): string {
  const end = Math.max(60, ...samples.map((sample) => sample.t));
  const panels: Panel[] = [
    {
      title: 'Heap used (MiB)',
      unit: 'MiB',
      series: [
        { label: 'after a full GC (judged)', colour: '#1f77b4', values: samples.map((sample) => ({ t: sample.t, value: sample.heapAfterGc / MiB })) },
        { label: 'before it', colour: '#9ecae9', values: samples.map((sample) => ({ t: sample.t, value: sample.heapUsed / MiB })), dashed: true },
      ],
    },
    { title: 'RSS (MiB)', unit: 'MiB', series: [{ label: 'RSS', colour: '#6f4e7c', values: samples.map((sample) => ({ t: sample.t, value: sample.rss / MiB })) }] },
    {
      title: 'Active handles and open sockets',
      unit: '',
      series: [
        { label: 'own handles (judged)', colour: '#2ca02c', values: samples.map((sample) => ({ t: sample.t, value: sample.ownHandles })) },
        { label: 'server sockets (judged)', colour: '#17becf', values: samples.map((sample) => ({ t: sample.t, value: sample.serverSockets })) },
        { label: 'all active resources', colour: '#98df8a', values: samples.map((sample) => ({ t: sample.t, value: sample.activeResources })), dashed: true },
      ],
    },
    {
      title: 'Event-loop delay (ms)',
      unit: 'ms',
      series: [
        { label: 'p99 per 10 s', colour: '#d62728', values: samples.filter((sample) => sample.t > 0).map((sample) => ({ t: sample.t, value: sample.eldP99 })) },
        { label: 'p99 since the start', colour: '#7f7f7f', values: samples.filter((sample) => sample.t > 0).map((sample) => ({ t: sample.t, value: sample.eldTotalP99 })), dashed: true },
        { label: 'idle process, p99 per 10 s', colour: '#ff9896', values: samples.filter((sample) => sample.t > 0).map((sample) => ({ t: sample.t, value: sample.idleP99 })), dashed: true },
      ],
      limit: { value: eldLimitMs, label: `limit ${eldLimitMs} ms` },
    },
    {
      title: `Back end CPU (% of one core, all threads; the machine has ${cores} cores shared with other work)`,
      unit: '%',
      series: [{ label: 'CPU time per 10 s', colour: '#8c564b', values: samples.filter((sample) => sample.t > 0).map((sample) => ({ t: sample.t, value: sample.cpuPercent })) }],
    },
  ];
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (t: number): number => LEFT + (t / end) * plotWidth;
  const out: string[] = [`<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`];
  // Fault legend: bands for faults that last, lines for instant ones; then the judged windows.
  const legend: Array<{ colour: string; opacity: number; label: string }> = [
    ...(['upstream-failing', 'upstream-slow', 'flood', 'redis-restart', 'thread-crash', 'refresher-crash'] as const).map((kind) => ({ ...FAULT_STYLE[kind], opacity: 0.35 })),
    { colour: '#000000', opacity: 0.08, label: 'judged windows: minute 2 and the last minute' },
  ];
  let legendX = LEFT;
  let legendY = 36;
  for (const entry of legend) {
    const width = 26 + entry.label.length * 6.3;
    if (legendX + width > WIDTH - RIGHT) {
      legendX = LEFT;
      legendY += 18;
    }
    out.push(`<rect x="${legendX}" y="${legendY}" width="12" height="12" fill="${entry.colour}" fill-opacity="${entry.opacity}"/><text x="${legendX + 16}" y="${legendY + 10}">${escape(entry.label)}</text>`);
    legendX += width;
  }
  const firstTop = legendY + TOP - 36;
  const height = firstTop + panels.length * (PANEL_HEIGHT + GAP) + 10;
  out.unshift(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
  );

  panels.forEach((panel, index) => {
    const top = firstTop + index * (PANEL_HEIGHT + GAP);
    const bottom = top + PANEL_HEIGHT;
    const all = panel.series.flatMap((series) => series.values.map((point) => point.value)).concat(panel.limit ? [panel.limit.value] : []);
    const max = Math.max(1, ...all) * 1.1;
    const step = niceStep(max, 4);
    const top_ = Math.ceil(max / step) * step;
    const y = (value: number): number => bottom - (value / top_) * PANEL_HEIGHT;
    out.push(`<text x="${LEFT}" y="${top - 26}" font-weight="bold">${escape(panel.title)}</text>`);
    // Judged windows.
    if (judgedEnd >= 120) {
      out.push(`<rect x="${x(60)}" y="${top}" width="${x(120) - x(60)}" height="${PANEL_HEIGHT}" fill="#000000" fill-opacity="0.06"/>`);
      out.push(`<rect x="${x(judgedEnd - 60)}" y="${top}" width="${x(judgedEnd) - x(judgedEnd - 60)}" height="${PANEL_HEIGHT}" fill="#000000" fill-opacity="0.06"/>`);
    }
    // Faults.
    for (const fault of faults) {
      const style = FAULT_STYLE[fault.kind];
      if (fault.seconds !== undefined && fault.seconds >= 1) {
        out.push(`<rect x="${x(fault.t).toFixed(1)}" y="${top}" width="${Math.max(1, x(fault.t + fault.seconds) - x(fault.t)).toFixed(1)}" height="${PANEL_HEIGHT}" fill="${style.colour}" fill-opacity="0.18"/>`);
      } else {
        out.push(`<line x1="${x(fault.t).toFixed(1)}" x2="${x(fault.t).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="${style.colour}" stroke-opacity="0.6"/>`);
      }
    }
    // Axes and grid.
    for (let value = 0; value <= top_ + step / 2; value += step) {
      out.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#dddddd"/>`);
      out.push(`<text x="${LEFT - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${Number(value.toPrecision(6))}</text>`);
    }
    const minuteStep = end > 900 ? 5 : end > 300 ? 1 : 0.5;
    for (let minute = 0; minute * 60 <= end + 1; minute += minuteStep) {
      out.push(`<line x1="${x(minute * 60).toFixed(1)}" x2="${x(minute * 60).toFixed(1)}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/>`);
      out.push(`<text x="${x(minute * 60).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${minute}</text>`);
    }
    out.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${bottom}" y2="${bottom}" stroke="#333333"/><line x1="${LEFT}" x2="${LEFT}" y1="${top}" y2="${bottom}" stroke="#333333"/>`);
    if (index === panels.length - 1) out.push(`<text x="${LEFT + plotWidth / 2}" y="${bottom + 32}" text-anchor="middle">minutes since the load started</text>`);
    if (panel.limit) {
      out.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(panel.limit.value).toFixed(1)}" y2="${y(panel.limit.value).toFixed(1)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
      out.push(`<text x="${WIDTH - RIGHT - 4}" y="${(y(panel.limit.value) - 4).toFixed(1)}" text-anchor="end" fill="#d62728">${escape(panel.limit.label)}</text>`);
    }
    // Series and their legend.
    let seriesLegendX = LEFT;
    for (const series of panel.series) {
      if (series.values.length > 0) {
        const points = series.values.map((point) => `${x(point.t).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ');
        out.push(`<polyline fill="none" stroke="${series.colour}" stroke-width="1.8"${series.dashed ? ' stroke-dasharray="5 3"' : ''} points="${points}"/>`);
      }
      out.push(`<line x1="${seriesLegendX}" x2="${seriesLegendX + 18}" y1="${top - 11}" y2="${top - 11}" stroke="${series.colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      out.push(`<text x="${seriesLegendX + 22}" y="${top - 7}">${escape(series.label)}</text>`);
      seriesLegendX += 40 + series.label.length * 6.3;
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
