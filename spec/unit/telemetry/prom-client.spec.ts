import { spawnSync } from 'node:child_process';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  bridgeToPromClient,
  counter,
  createTelemetry,
  createTestClock,
  distribution,
  lastValue,
  summary,
  toPrometheus,
  type Telemetry,
} from '../../../src/index.js';
import { parsePrometheusText, parseStrictly, promtoolCheck, promtoolRequired } from '../../monitoring/exposition-checks.js';

/** Events for every default metric, with a breaker name that labels must escape. */
function emitEveryDefaultEvent(telemetry: Telemetry): void {
  telemetry.emit('supervisor.child.started', undefined, { supervisor: 'root', child: 'a' });
  telemetry.emit('supervisor.child.exited', undefined, { supervisor: 'root', child: 'a', reason: 'error' });
  telemetry.emit('supervisor.child.restarted', { restarts: 1 }, { supervisor: 'root', child: 'a' });
  telemetry.emit('supervisor.shutdown', undefined, { supervisor: 'root', reason: 'intensity' });
  telemetry.emit('breaker.call', { duration: 12 }, { breaker: 'pay"ments\n', outcome: 'success' });
  telemetry.emit('breaker.call', { duration: 0 }, { breaker: 'pay"ments\n', outcome: 'rejected' });
  telemetry.emit('breaker.state', undefined, { breaker: 'pay"ments\n', from: 'closed', to: 'open' });
  telemetry.emit('limiter.hit', { count: 1, cost: 1 }, { limiter: 'api', allowed: true });
  telemetry.emit('pool.checkout', { duration: 7, waiting: 2 }, { pool: 'db', outcome: 'ok' });
  telemetry.emit('pool.worker.exit', undefined, { pool: 'db', reason: 'crash' });
}

const withoutEmptyFamilies = (text: string) => parsePrometheusText(text).filter((family) => family.metrics.length > 0);

describe('bridgeToPromClient registers overseer metrics in a real prom-client Registry', () => {
  it("the registry's metrics() output holds what toPrometheus writes for the same events, family for family", async () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry);
    emitEveryDefaultEvent(telemetry);
    const fromPromClient = await registry.metrics();
    const fromOverseer = toPrometheus(bridge.snapshot());
    expect(withoutEmptyFamilies(fromPromClient)).toEqual(withoutEmptyFamilies(fromOverseer));
    expect(fromPromClient).toContain('breaker_call_total{breaker="pay\\"ments\\n",outcome="success"} 1');
    expect(fromPromClient).toContain('breaker_call_duration_seconds_bucket{breaker="pay\\"ments\\n",le="0.025"} 1');
    expect(fromPromClient).toContain('pool_checkout_duration_seconds_sum{pool="db"} 0.007');
    bridge.stop();
  });

  it('sits beside the application’s own prom-client metrics and default labels, and the whole output is valid', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'api' });
    const requests = new Counter({ name: 'http_requests_total', help: 'Requests', labelNames: ['route'], registers: [registry] });
    requests.inc({ route: '/quote' });
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, {
      metrics: [
        counter('job.run.count', { tags: ['ns:key', 'job'] }),
        summary('job.run.duration', { tags: ['job'], unit: 'millisecond' }),
        distribution('job.run.size', { tags: ['job'], buckets: [1, 2], unit: 'kilobyte' }),
        lastValue('job.run.depth', { tags: ['job'] }),
      ],
    });
    telemetry.emit('job.run', { duration: 250, size: 1.5, depth: 4 }, { 'ns:key': 'k', job: 'nightly "sync"' });
    const text = await registry.metrics();
    const families = parseStrictly(text);
    expect(families.get('http_requests_total')!.metrics).toEqual([{ value: '1', labels: { route: '/quote', service: 'api' } }]);
    expect(families.get('job_run_total')!.metrics).toEqual([{ value: '1', labels: { ns_key: 'k', job: 'nightly "sync"', service: 'api' } }]);
    expect(families.get('job_run_depth')!.metrics).toEqual([{ value: '4', labels: { job: 'nightly "sync"', service: 'api' } }]);
    expect(families.get('job_run_duration_seconds')!.type).toBe('SUMMARY');
    expect(text).toContain('job_run_duration_seconds{job="nightly \\"sync\\"",quantile="0.5",service="api"} 0.25');
    expect(text).toContain('job_run_size_bytes_bucket{job="nightly \\"sync\\"",le="2000",service="api"} 1');
    if (promtoolRequired()) expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
    bridge.stop();
  });

  it('an OpenMetrics registry writes the counters as OpenMetrics wants them (family without _total, samples with)', async () => {
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry);
    emitEveryDefaultEvent(telemetry);
    for (let scrape = 0; scrape < 2; scrape += 1) {
      const text = await registry.metrics();
      expect(text).toContain('# TYPE limiter_hit counter\n');
      expect(text).toContain('limiter_hit_total{limiter="api",allowed="true"} 1\n');
      expect(text).not.toContain('_total_total');
      expect(text.endsWith('# EOF\n')).toBe(true);
    }
    bridge.stop();
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it('counts the series a metric refused at its maxSeries cap', async () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { metrics: [counter('session.opened.count', { tags: ['session'], maxSeries: 2 })] });
    for (let index = 0; index < 5; index += 1) telemetry.emit('session.opened', undefined, { session: `s${index}` });
    const text = await registry.metrics();
    expect(text).toContain('overseer_metric_series_dropped_total{metric="session_opened_total"} 3');
    expect(text.match(/^session_opened_total/gm)).toHaveLength(2);
    bridge.stop();
  });

  it('stop() unsubscribes and removes every metric it registered', async () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToPromClient(telemetry.events$, registry, { prefix: 'app_' });
    expect(registry.getSingleMetric('app_breaker_call_total')).toBeDefined();
    bridge.stop();
    expect(telemetry.observed).toBe(false);
    expect(registry.getMetricsAsArray()).toEqual([]);
    expect(await registry.metrics()).toBe('\n');
  });
});

describe('bridgeToPromClient refuses what would break the registry, changing nothing', () => {
  it('a name the registry already has: ConfigError naming registry, and none of the bridge’s metrics stay registered', () => {
    const registry = new Registry();
    new Counter({ name: 'limiter_hit_total', help: 'taken', registers: [registry] });
    const telemetry = createTelemetry({ clock: createTestClock() });
    let thrown: unknown;
    try {
      bridgeToPromClient(telemetry.events$, registry);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).option).toBe('registry');
    expect((thrown as ConfigError).message).toContain('limiter_hit_total');
    expect(registry.getMetricsAsArray().map((metric) => metric.name)).toEqual(['limiter_hit_total']);
    expect(telemetry.observed).toBe(false);
  });

  it('two bridges on one registry need distinct prefixes', () => {
    const registry = new Registry();
    const telemetry = createTelemetry({ clock: createTestClock() });
    const first = bridgeToPromClient(telemetry.events$, registry);
    expect(() => bridgeToPromClient(telemetry.events$, registry)).toThrow(ConfigError);
    const second = bridgeToPromClient(telemetry.events$, registry, { prefix: 'second_' });
    first.stop();
    second.stop();
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it.each([
    ['registry', () => bridgeToPromClient(createTelemetry().events$, {} as never)],
    ['prefix', () => bridgeToPromClient(createTelemetry().events$, new Registry(), { prefix: 'my-app' })],
    ['metrics', () => bridgeToPromClient(createTelemetry().events$, new Registry(), { metrics: [lastValue('a.b.c'), lastValue('a_b.c')] })],
    ['metrics', () => bridgeToPromClient(createTelemetry().events$, new Registry(), { metrics: 'all' as never })],
  ])('a bad %s', (option, bridge) => {
    expect(bridge).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', option }));
  });
});

describe('importing the package root does not load prom-client', () => {
  it('only the application’s own import loads it', () => {
    const script = `
      const { createRequire } = await import('node:module');
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((path) => path.includes('/node_modules/prom-client/'));
      await import('./src/index.ts');
      const afterRoot = loaded();
      await import('prom-client');
      console.log(afterRoot, loaded());`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('false true');
  });
});
