import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  InvalidArgumentError,
  collectMetrics,
  counter,
  createTelemetry,
  createTestClock,
  lastValue,
  prometheusName,
  startMetrics,
  sum,
  summary,
  toPrometheus,
  type Metric,
  type MetricDefinition,
  type MetricSnapshot,
} from '../../../../src/index.js';
import { scrape } from '../../../support/prometheus.js';
import { prometheusFamily } from '../../../../src/telemetry/metrics/prometheus-naming.js';
import { thrownBy } from '../../../support/thrown.js';


/** A snapshot of one series with `value`, built by hand as an exporter elsewhere might gather it. */
function scalarSnapshot(definition: MetricDefinition, value: number, tags: Record<string, string> = {}): MetricSnapshot {
  return { definition, series: [{ tags, value: { kind: 'scalar', value } }] };
}

describe('Prometheus names', () => {
  it('a name that is not a string is refused with the argument and what it takes', () => {
    const error = thrownBy(() => prometheusName(42 as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toBe('Invalid argument prometheusName.name: expected a metric name (a string), got 42');
  });

  it('a tag with digits after its first character keeps its label name; only a leading digit gets a "_"', () => {
    const text = scrape([counter('api.request.count', { tags: ['http2', '3xx'] })], (emit) => emit('api.request', {}, { http2: 'yes', '3xx': 'no' }));
    expect(text).toContain('api_request_total{http2="yes",_3xx="no"} 1\n');
  });

  it('a measurement already named with its base unit suffix does not get it twice', () => {
    const text = scrape([sum('job.run.time_seconds', { unit: 'millisecond', measurement: 'duration' })], (emit) => emit('job.run', { duration: 1500 }));
    expect(text).toBe('# HELP job_run_time_seconds sum of job.run\n# TYPE job_run_time_seconds gauge\njob_run_time_seconds 1.5\n');
  });

  it('a counter with a unit counts events, not converted values, under its _total name', () => {
    const text = scrape([counter('job.run.count', { unit: 'millisecond' })], (emit) => emit('job.run', { count: 5 }));
    expect(text).toBe('# HELP job_run_total counter of job.run\n# TYPE job_run_total counter\njob_run_total 1\n');
  });

  it('each kind of metric names the samples it writes', () => {
    expect(prometheusFamily(summary('a.b.duration', { unit: 'ms' }).definition).sampleNames).toEqual([
      'a_b_duration_seconds',
      'a_b_duration_seconds_sum',
      'a_b_duration_seconds_count',
    ]);
    expect(prometheusFamily(sum('a.b.size', { unit: 'kilobyte' }).definition).sampleNames).toEqual(['a_b_size_bytes']);
    expect(prometheusFamily(counter('a.b.count').definition).sampleNames).toEqual(['a_b_total']);
  });

  it('the family of a definition is computed once', () => {
    const { definition } = sum('a.b.c');
    expect(prometheusFamily(definition)).toBe(prometheusFamily(definition));
  });
});

describe('label names refused when a metric is defined', () => {
  it('a tag that gives a "__" label', () => {
    expect(() => counter('a.b.count', { tags: ['__x'] })).toThrow(
      'Invalid option tags: expected tags whose label names do not start with "__" (reserved by Prometheus); "__x" gives "__x", got array(1)',
    );
  });

  it('a tag named as an exporter label', () => {
    expect(() => summary('a.b.c', { tags: ['quantile'] })).toThrow(
      'Invalid option tags: expected no tag named "quantile" on a summary (histograms and summaries write that label), got array(1)',
    );
  });

  it('two tags that give one label name', () => {
    expect(() => sum('a.b.c', { tags: ['x.y', 'x_y'] })).toThrow(
      'Invalid option tags: expected tags with distinct label names; "x.y" and "x_y" are both "x_y", got array(2)',
    );
  });
});

describe('metrics that would share a Prometheus name are refused, naming both', () => {
  const cases: [string, () => Metric[], string][] = [
    ['two metrics', () => [sum('a.b.c'), lastValue('a_b.c')], 'Invalid option metrics: expected metrics whose Prometheus names differ; "a_b.c" and "a.b.c" both claim "a_b_c", got "a_b.c"'],
    ['a summary and a gauge named as its _sum', () => [summary('a.b'), lastValue('a.b.sum')], 'Invalid option metrics: expected metrics whose Prometheus names differ; "a.b.sum" and "a.b" both claim "a_b_sum", got "a.b.sum"'],
    ['a counter and a gauge named as the counter without _total', () => [counter('a.b.count'), lastValue('a.b')], 'Invalid option metrics: expected metrics whose Prometheus names differ; "a.b" and "a.b.count" both claim "a_b", got "a.b"'],
    [
      'a counter named as the dropped-series counter',
      () => [counter('overseer.metric.series.dropped.count')],
      'Invalid option metrics: expected metrics whose Prometheus names differ; "overseer.metric.series.dropped.count" and the dropped-series counter both claim "overseer_metric_series_dropped_total", got "overseer.metric.series.dropped.count"',
    ],
    [
      'a gauge named as the dropped-series counter without _total',
      () => [lastValue('overseer.metric.series.dropped')],
      'Invalid option metrics: expected metrics whose Prometheus names differ; "overseer.metric.series.dropped" and the dropped-series counter both claim "overseer_metric_series_dropped", got "overseer.metric.series.dropped"',
    ],
  ];

  it.each(cases)('%s, by startMetrics', (_label, metrics, message) => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const error = thrownBy(() => startMetrics(telemetry.events$, metrics()));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });

  it.each(cases)('%s, by collectMetrics', (_label, metrics, message) => {
    const error = thrownBy(() => collectMetrics(metrics()));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });

  it('a summary and a gauge named as a histogram bucket of it are accepted', () => {
    const text = scrape([summary('a.b'), lastValue('a.b.bucket')], (emit) => {
      emit('a', { b: 2 });
      emit('a.b', { bucket: 7 });
    });
    expect(text).toContain('\na_b_bucket 7\n');
    expect(text).toContain('\na_b_count 1\n');
  });
});

describe('toPrometheus refuses what is not a metric snapshot', () => {
  const { definition } = sum('a.b.c');
  const notSnapshots: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a function with a definition and series', Object.assign(() => 0, { definition, series: [] })],
    ['a null definition', { definition: null, series: [] }],
    ['a definition that is not an object', { definition: 'a.b.c', series: [] }],
    ['no definition', { series: [] }],
    ['series that are not an array', { definition, series: { length: 0 } }],
  ];

  it.each(notSnapshots)('%s', (_label, value) => {
    const error = thrownBy(() => toPrometheus(value as MetricSnapshot));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('toPrometheus.snapshot');
    expect((error as Error).message).toMatch(/^Invalid argument toPrometheus\.snapshot: expected a metric snapshot \(registry\.snapshot\(\) gives them\), got /);
  });

  it.each(notSnapshots)('%s in an array, naming its index', (_label, value) => {
    const error = thrownBy(() => toPrometheus([scalarSnapshot(definition, 1), value as MetricSnapshot]));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('toPrometheus.snapshot[1]');
  });
});

describe('toPrometheus writes sample values and labels of hand-built snapshots', () => {
  it('NaN, +Inf and -Inf as Prometheus spells them', () => {
    const { definition } = sum('a.b.c', { tags: ['k'] });
    const text = toPrometheus({
      definition,
      series: [
        { tags: { k: 'nan' }, value: { kind: 'scalar', value: Number.NaN } },
        { tags: { k: 'pos' }, value: { kind: 'scalar', value: Number.POSITIVE_INFINITY } },
        { tags: { k: 'neg' }, value: { kind: 'scalar', value: Number.NEGATIVE_INFINITY } },
      ],
    });
    expect(text).toBe('# HELP a_b_c sum of a.b\n# TYPE a_b_c gauge\na_b_c{k="nan"} NaN\na_b_c{k="pos"} +Inf\na_b_c{k="neg"} -Inf\n');
  });

  it('a sum of +Inf and -Inf measurements is NaN', () => {
    const text = scrape([sum('a.b.c')], (emit) => {
      emit('a.b', { c: Number.POSITIVE_INFINITY });
      emit('a.b', { c: Number.NEGATIVE_INFINITY });
    });
    expect(text).toContain('\na_b_c NaN\n');
  });

  it('a tag missing from a series is written as an empty label value', () => {
    const { definition } = sum('a.b.c', { tags: ['k', 'j'] });
    expect(toPrometheus(scalarSnapshot(definition, 3, { j: 'x' }))).toBe('# HELP a_b_c sum of a.b\n# TYPE a_b_c gauge\na_b_c{k="",j="x"} 3\n');
  });
});

describe('toPrometheus leaves out, with a comment, what would make the scrape invalid', () => {
  it('a metric named as the dropped-series counter', () => {
    const { definition } = counter('overseer.metric.series.dropped.count');
    expect(toPrometheus(scalarSnapshot(definition, 1))).toBe(
      '# overseer: overseer_metric_series_dropped_total (metric overseer.metric.series.dropped.count) left out: another metric of this scrape has its name\n',
    );
  });

  it('a later metric that claims only some of the names of an earlier one', () => {
    const gauge = lastValue('x.y').definition;
    const quantiles = summary('x.y').definition;
    const text = toPrometheus([
      scalarSnapshot(gauge, 1),
      { definition: quantiles, series: [{ tags: {}, value: { kind: 'summary', count: 1, sum: 2, min: 2, max: 2, mean: 2, p50: 2, p90: 2, p99: 2 } }] },
    ]);
    expect(text).toBe('# HELP x_y last_value of x\n# TYPE x_y gauge\nx_y 1\n# overseer: x_y (metric x.y) left out: another metric of this scrape has its name\n');
  });

  it('a hand-built definition whose labels are invalid, its error on one line', () => {
    const definition = { ...sum('a.b.c').definition, tags: ['__a\nb'] } as MetricDefinition;
    expect(toPrometheus(scalarSnapshot(definition, 1))).toBe(
      '# overseer: metric a_b_c left out: Invalid option tags: expected tags whose label names do not start with "__" (reserved by Prometheus); "__a b" gives "__a_b", got array(1)\n',
    );
  });

  it('a hand-built definition that throws something other than an error', () => {
    const definition = Object.defineProperty({ ...sum('a.b.c').definition }, 'type', {
      get: () => {
        throw 'not an error';
      },
    }) as MetricDefinition;
    expect(toPrometheus(scalarSnapshot(definition, 1))).toBe('# overseer: metric a_b_c left out: invalid\n');
  });
});

describe('toPrometheus counts dropped series under their own family', () => {
  it('with its HELP and TYPE lines, after every metric', () => {
    const text = scrape([sum('a.b.c', { tags: ['k'], maxSeries: 1 })], (emit) => {
      emit('a.b', { c: 1 }, { k: 'x' });
      emit('a.b', { c: 1 }, { k: 'y' });
      emit('a.b', { c: 1 }, { k: 'z' });
    });
    expect(text).toBe(
      [
        '# HELP a_b_c sum of a.b',
        '# TYPE a_b_c gauge',
        'a_b_c{k="x"} 1',
        '# HELP overseer_metric_series_dropped_total Events not counted because their metric already had maxSeries series, by metric',
        '# TYPE overseer_metric_series_dropped_total counter',
        'overseer_metric_series_dropped_total{metric="a_b_c"} 2',
        '',
      ].join('\n'),
    );
  });
});
