import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  collectMetrics,
  counter,
  createTelemetry,
  createTestClock,
  distribution,
  lastValue,
  startMetrics,
  sum,
  summary,
  toPrometheus,
  type Metric,
} from '../../../../src/index.js';
import { thrownBy } from '../../../support/thrown.js';

function scrape(metrics: readonly Metric[], emit: (telemetry: ReturnType<typeof createTelemetry>) => void): string {
  const telemetry = createTelemetry({ clock: createTestClock() });
  const registry = startMetrics(telemetry.events$, metrics);
  emit(telemetry);
  const text = toPrometheus(registry.snapshot());
  registry.stop();
  return text;
}

const labelGrammar = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The label names of every sample line of an exposition. */
function labelNames(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#') && line.includes('{'))
    .flatMap((line) => [...line.slice(line.indexOf('{') + 1, line.lastIndexOf('}')).matchAll(/(?:^|,)([^=,]*)="(?:[^"\\]|\\.)*"/g)].map((match) => match[1]!));
}

describe('tags become label names that follow the Prometheus label grammar', () => {
  it('a colon, a dot, a dash, a leading digit and non-ASCII letters are replaced', () => {
    const text = scrape([counter('job.run.count', { tags: ['ns:key', 'http.method', 'status-class', '2xx', 'é'] })], (telemetry) =>
      telemetry.emit('job.run', {}, { 'ns:key': 'a', 'http.method': 'GET', 'status-class': '2xx', '2xx': 1, é: 'e' }),
    );
    expect(text).toContain('job_run_total{ns_key="a",http_method="GET",status_class="2xx",_2xx="1",_="e"} 1');
    for (const name of labelNames(text)) expect(name).toMatch(labelGrammar);
  });
});

describe('tags that would write an invalid or ambiguous sample are refused when the metric is defined', () => {
  it.each<[string, () => Metric]>([
    ['a.b and a_b give one label name', () => counter('job.run.count', { tags: ['a.b', 'a_b'] })],
    ['ns:key and ns.key give one label name', () => sum('job.run.cost', { tags: ['ns:key', 'ns.key'] })],
    ['a tag twice', () => lastValue('job.run.size', { tags: ['job', 'job'] })],
    ['le on a distribution', () => distribution('job.run.duration', { tags: ['le'], buckets: [1] })],
    ['quantile on a summary', () => summary('job.run.duration', { tags: ['quantile'] })],
    ['le on a summary (promtool flags it)', () => summary('job.run.duration', { tags: ['le'] })],
    ['quantile on a distribution (promtool flags it)', () => distribution('job.run.duration', { tags: ['quantile'], buckets: [1] })],
    ['le or quantile on a counter or gauge', () => counter('job.run.count', { tags: ['le', 'quantile'] })],
    ['a label name starting with __', () => counter('job.run.count', { tags: ['__name__'] })],
    ['.. (sanitised to __)', () => counter('job.run.count', { tags: ['..x'] })],
  ])('%s', (_label, define) => {
    const error = thrownBy(define);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('tags');
  });

  it('maxSeries must be a positive integer', () => {
    for (const maxSeries of [0, -1, 1.5, Number.NaN, '10']) {
      const error = thrownBy(() => counter('job.run.count', { maxSeries } as never));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe('maxSeries');
    }
  });
});

describe('metrics whose Prometheus names collide are refused when they are started, never at scrape time', () => {
  it.each<[string, () => Metric[]]>([
    ['a.b.c and a_b.c', () => [lastValue('a.b.c'), lastValue('a_b.c')]],
    ['a counter x.y.count and a gauge x.y.total', () => [counter('x.y.count'), lastValue('x.y.total')]],
    ['counters x.y.count and x.y.total', () => [counter('x.y.count'), counter('x.y.total')]],
    ['a histogram x.y and a gauge x.y.count (its _count sample)', () => [distribution('x.y', { buckets: [1] }), lastValue('x.y.count')]],
    ['a summary x.y and a gauge x.y.sum', () => [summary('x.y'), sum('x.y.sum')]],
    ['a histogram in ms x.duration and a gauge x.duration_seconds', () => [distribution('x.duration', { buckets: [1], unit: 'millisecond' }), lastValue('x.duration_seconds')]],
    ['one metric twice', () => {
      const metric = counter('x.y.count');
      return [metric, metric];
    }],
    ['a gauge named like the dropped-series counter', () => [lastValue('overseer.metric.series_dropped_total')]],
  ])('%s', (_label, metrics) => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    for (const start of [() => startMetrics(telemetry.events$, metrics()), () => collectMetrics(metrics())]) {
      const error = thrownBy(start);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe('metrics');
    }
    expect(telemetry.observed).toBe(false);
  });

  it('snapshots of two registries that collide still scrape: the later family is left out with a comment', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const first = startMetrics(telemetry.events$, [lastValue('a.b.c', { description: 'first' })]);
    const second = startMetrics(telemetry.events$, [lastValue('a_b.c', { description: 'second' })]);
    telemetry.emit('a.b', { c: 1 });
    telemetry.emit('a_b', { c: 2 });
    const text = toPrometheus([...first.snapshot(), ...second.snapshot()]);
    expect(text.match(/^# HELP /gm)).toHaveLength(1);
    expect(text).toBe('# HELP a_b_c first\n# TYPE a_b_c gauge\na_b_c 1\n# overseer: a_b_c (metric a_b.c) left out: another metric of this scrape has its name\n');
  });
});

describe('names follow the Prometheus conventions', () => {
  it('counters end in _total, time is in seconds with _seconds, sizes in bytes with _bytes', () => {
    const text = scrape(
      [
        counter('job.run.count'),
        counter('job.done'),
        counter('job.failed.total'),
        distribution('job.run.duration', { buckets: [5, 250], unit: 'millisecond' }),
        summary('job.run.wait', { unit: 'microsecond' }),
        sum('job.run.payload', { unit: 'kilobyte' }),
        lastValue('job.run.lag', { unit: 'second' }),
        lastValue('job.run.depth', { unit: 'item' }),
      ],
      (telemetry) => {
        telemetry.emit('job.run', { duration: 3, wait: 1500, payload: 2.5, lag: 4, depth: 7 });
        telemetry.emit('job.run', { duration: 300, wait: 1500, payload: 1, lag: 2, depth: 7 });
        telemetry.emit('job');
        telemetry.emit('job.failed');
      },
    );
    expect(text).toBe(String.raw`# HELP job_run_total counter of job.run
# TYPE job_run_total counter
job_run_total 2
# HELP job_done_total counter of job
# TYPE job_done_total counter
job_done_total 1
# HELP job_failed_total counter of job.failed
# TYPE job_failed_total counter
job_failed_total 1
# HELP job_run_duration_seconds distribution of job.run
# TYPE job_run_duration_seconds histogram
job_run_duration_seconds_bucket{le="0.005"} 1
job_run_duration_seconds_bucket{le="0.25"} 1
job_run_duration_seconds_bucket{le="+Inf"} 2
job_run_duration_seconds_sum 0.303
job_run_duration_seconds_count 2
# HELP job_run_wait_seconds summary of job.run
# TYPE job_run_wait_seconds summary
job_run_wait_seconds{quantile="0.5"} 0.0015
job_run_wait_seconds{quantile="0.9"} 0.0015
job_run_wait_seconds{quantile="0.99"} 0.0015
job_run_wait_seconds_sum 0.003
job_run_wait_seconds_count 2
# HELP job_run_payload_bytes sum of job.run
# TYPE job_run_payload_bytes gauge
job_run_payload_bytes 3500
# HELP job_run_lag_seconds last_value of job.run
# TYPE job_run_lag_seconds gauge
job_run_lag_seconds 2
# HELP job_run_depth last_value of job.run
# TYPE job_run_depth gauge
job_run_depth 7
`);
  });
});

describe('toPrometheus never throws at scrape time', () => {
  it('a snapshot whose definition was built by hand with clashing tags is left out with a comment', () => {
    const good = lastValue('job.run.depth');
    const handMade = { ...counter('job.run.count').definition, tags: ['a.b', 'a_b'] };
    const text = toPrometheus([
      { definition: handMade, series: [{ tags: { 'a.b': '1', a_b: '2' }, value: { kind: 'scalar', value: 1 } }] },
      { definition: good.definition, series: [{ tags: {}, value: { kind: 'scalar', value: 3 } }] },
    ]);
    expect(text.split('\n')[0]).toMatch(/^# overseer: metric job_run_count left out: Invalid option tags/);
    expect(text.split('\n').slice(1).join('\n')).toBe('# HELP job_run_depth last_value of job.run\n# TYPE job_run_depth gauge\njob_run_depth 3\n');
  });
});
