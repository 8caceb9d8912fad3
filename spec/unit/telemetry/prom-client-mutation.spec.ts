import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  bridgeToPromClient,
  counter,
  createTelemetry,
  createTestClock,
  distribution,
  summary,
  type PromClientRegistry,
} from '../../../src/index.js';
import { configErrorOf } from '../../support/thrown.js';

/** A registry that records what the bridge registers and removes, failing on the names in `refuse`. */
function recordingRegistry(refuse: readonly string[] = []) {
  const registered: string[] = [];
  const removed: string[] = [];
  const registry: PromClientRegistry = {
    registerMetric(metric: never) {
      const { name } = metric as { name: string };
      if (refuse.includes(name)) throw new Error(`A metric with the name ${name} has already been registered.`);
      registered.push(name);
    },
    removeSingleMetric(name) {
      removed.push(name);
    },
  };
  return { registry, registered, removed };
}

const jobMetrics = () => [
  summary('job.run.duration', { tags: ['job'], unit: 'millisecond' }),
  distribution('job.run.size', { tags: ['job'], buckets: [1, 2], unit: 'kilobyte' }),
];

function emitJobRuns(telemetry: ReturnType<typeof createTelemetry>): void {
  for (const [duration, size] of [
    [100, 0.5],
    [200, 1.5],
    [400, 3],
  ] as const) {
    telemetry.emit('job.run', { duration, size }, { job: 'a' });
  }
}

describe('bridgeToPromClient writes every sample of summaries and distributions', () => {
  it('a summary: the 0.5, 0.9 and 0.99 quantiles, _sum and _count, in base units', async () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { metrics: jobMetrics() });
    emitJobRuns(telemetry);
    const lines = (await registry.metrics()).split('\n').filter((line) => line.startsWith('job_run_duration_seconds'));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^job_run_duration_seconds\{job="a",quantile="0\.5"\} 0\.\d+$/);
    expect(lines.slice(1)).toEqual([
      'job_run_duration_seconds{job="a",quantile="0.9"} 0.4',
      'job_run_duration_seconds{job="a",quantile="0.99"} 0.4',
      'job_run_duration_seconds_sum{job="a"} 0.7',
      'job_run_duration_seconds_count{job="a"} 3',
    ]);
    bridge.stop();
  });

  it('a distribution: cumulative buckets, _sum and _count', async () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { metrics: jobMetrics() });
    emitJobRuns(telemetry);
    const lines = (await registry.metrics()).split('\n').filter((line) => line.startsWith('job_run_size_bytes'));
    expect(lines).toEqual([
      'job_run_size_bytes_bucket{job="a",le="1000"} 1',
      'job_run_size_bytes_bucket{job="a",le="2000"} 2',
      'job_run_size_bytes_bucket{job="a",le="+Inf"} 3',
      'job_run_size_bytes_sum{job="a"} 5000',
      'job_run_size_bytes_count{job="a"} 3',
    ]);
    bridge.stop();
  });
});

describe('the bridge’s collectors are prom-client metrics to whoever reads the registry', () => {
  it('each has its name, help, type and the sum aggregator, in the registry and in its JSON', async () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { metrics: [counter('session.opened.count', { tags: ['session'] })] });
    telemetry.emit('session.opened', undefined, { session: 's1' });
    expect(registry.getSingleMetric('session_opened_total')).toMatchObject({ name: 'session_opened_total', type: 'counter', aggregator: 'sum' });
    expect(registry.getSingleMetric('overseer_metric_series_dropped_total')).toMatchObject({ type: 'counter', aggregator: 'sum' });
    const json = await registry.getMetricsAsJSON();
    expect(json.map((metric) => [metric.name, metric.type, metric.aggregator])).toEqual([
      ['session_opened_total', 'counter', 'sum'],
      ['overseer_metric_series_dropped_total', 'counter', 'sum'],
    ]);
    bridge.stop();
  });

  it('an OpenMetrics registry writes the dropped-series counter as a counter: family without _total, samples with', async () => {
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { metrics: [counter('session.opened.count', { tags: ['session'], maxSeries: 1 })] });
    for (let index = 0; index < 3; index += 1) telemetry.emit('session.opened', undefined, { session: `s${index}` });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE overseer_metric_series_dropped counter\n');
    expect(text).toContain('\noverseer_metric_series_dropped_total{metric="session_opened_total"} 2\n');
    bridge.stop();
  });

  it('resetMetrics() on the registry clears the bridged series', async () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { metrics: [counter('session.opened.count', { tags: ['session'] })] });
    telemetry.emit('session.opened', undefined, { session: 's1' });
    expect(await registry.metrics()).toContain('session_opened_total{session="s1"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('session_opened_total{');
    expect(bridge.snapshot()[0]!.series).toEqual([]);
    telemetry.emit('session.opened', undefined, { session: 's2' });
    expect(await registry.metrics()).toContain('session_opened_total{session="s2"} 1');
    bridge.stop();
  });
});

describe('bridgeToPromClient registers and removes exactly its own metrics', () => {
  it('stop() removes each metric it registered, and only those', () => {
    const { registry, registered, removed } = recordingRegistry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { metrics: [counter('session.opened.count')], prefix: 'app_' });
    expect(registered).toEqual(['app_session_opened_total', 'app_overseer_metric_series_dropped_total']);
    expect(removed).toEqual([]);
    bridge.stop();
    expect(removed).toEqual(registered);
    bridge.stop();
    expect(removed).toEqual(registered);
  });

  it('a metric the registry refuses: the ones registered before it are removed, and the error names both', () => {
    const { registry, registered, removed } = recordingRegistry(['overseer_metric_series_dropped_total']);
    const telemetry = createTelemetry({ clock: createTestClock() });
    const error = configErrorOf(() => bridgeToPromClient(telemetry.events$, registry, { metrics: [counter('session.opened.count')] }));
    expect(registered).toEqual(['session_opened_total']);
    expect(removed).toEqual(['session_opened_total']);
    expect(error.option).toBe('registry');
    expect(error.message).toContain(
      'expected a registry without a metric named "overseer_metric_series_dropped_total" ' +
        '(A metric with the name overseer_metric_series_dropped_total has already been registered.)',
    );
    expect(telemetry.observed).toBe(false);
  });
});

describe('bridgeToPromClient refuses a bad registry or options before registering anything', () => {
  const noop = () => undefined;

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['an object without removeSingleMetric', { registerMetric: noop }],
    ['an object without registerMetric', { removeSingleMetric: noop }],
  ])('a registry that is %s', (_kind, registry) => {
    const error = configErrorOf(() => bridgeToPromClient(createTelemetry().events$, registry as never));
    expect(error.option).toBe('registry');
    expect(error.value).toBe(registry);
    expect(error.message).toContain('expected a prom-client Registry (registerMetric, removeSingleMetric)');
  });

  it('options that are not an object', () => {
    const { registry, registered } = recordingRegistry();
    expect(configErrorOf(() => bridgeToPromClient(createTelemetry().events$, registry, 'all' as never)).option).toBe('options');
    expect(registered).toEqual([]);
  });

  it.each([['my-app'], ['1app_'], [3]])('a prefix outside the metric name grammar (%j)', (prefix) => {
    const { registry, registered } = recordingRegistry();
    const error = configErrorOf(() => bridgeToPromClient(createTelemetry().events$, registry, { prefix: prefix as never }));
    expect(error.option).toBe('prefix');
    expect(error.value).toBe(prefix);
    expect(error.message).toContain('expected a string of the Prometheus metric name grammar, e.g. "myapp_"');
    expect(registered).toEqual([]);
  });

  it('a real registry keeps the application’s metric when the bridge is refused', () => {
    const registry = new Registry();
    new Counter({ name: 'app_session_opened_total', help: 'taken', registers: [registry] });
    expect(() => bridgeToPromClient(createTelemetry().events$, registry, { metrics: [counter('session.opened.count')], prefix: 'app_' })).toThrow(ConfigError);
    expect(registry.getMetricsAsArray().map((metric) => metric.name)).toEqual(['app_session_opened_total']);
  });
});
