import { DiagLogLevel, diag, type DiagLogger } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type HistogramMetricData, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, bridgeToOpenTelemetry, createTelemetry, createTestClock, durationBucketsMs, type Telemetry } from '../../../src/index.js';

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Everything the OpenTelemetry API's diagnostics say at warning level and above. */
const diagnostics: string[] = [];
const recordingLogger: DiagLogger = {
  error: (message) => void diagnostics.push(`error: ${message}`),
  warn: (message) => void diagnostics.push(`warn: ${message}`),
  info: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};

beforeEach(() => {
  diagnostics.length = 0;
  diag.setLogger(recordingLogger, DiagLogLevel.WARN);
});
afterEach(() => diag.disable());

/** A MeterProvider with a reader and a bridge from a fresh telemetry on a test clock. */
function bridged(options?: Parameters<typeof bridgeToOpenTelemetry>[2]) {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const telemetry: Telemetry = createTelemetry({ clock: createTestClock() });
  const bridge = bridgeToOpenTelemetry(telemetry.events$, provider.getMeter('overseer'), options);
  const collect = async (): Promise<MetricData[]> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  };
  return { telemetry, bridge, collect, provider };
}

describe('OpenTelemetry bridge', () => {
  it('turns events into counters and measurement histograms with scalar metadata as attributes', async () => {
    const { telemetry, bridge, collect, provider } = bridged();
    telemetry.emit('breaker.call', { duration: 12 }, { breaker: 'payments', outcome: 'success' });
    telemetry.emit('breaker.call', { duration: 30 }, { breaker: 'payments', outcome: 'success' });
    telemetry.emit('limiter.hit', { count: 1, cost: 1 }, { limiter: 'api', allowed: true, key: 'alice', error: new Error('x') });
    bridge.stop();
    telemetry.emit('breaker.call', { duration: 99 }, { breaker: 'payments', outcome: 'success' });
    const metrics = await collect();
    const byName = new Map(metrics.map((metric) => [metric.descriptor.name, metric]));
    const calls = byName.get('overseer.breaker.call')!;
    expect(calls.dataPoints).toHaveLength(1);
    expect(calls.dataPoints[0]!.value).toBe(2);
    expect(calls.dataPoints[0]!.attributes).toEqual({ breaker: 'payments', outcome: 'success' });
    const durations = byName.get('overseer.breaker.call.duration') as HistogramMetricData;
    expect(durations.descriptor.unit).toBe('s');
    expect(durations.dataPoints[0]!.value).toMatchObject({ count: 2, min: 0.012, max: 0.03 });
    expect(durations.dataPoints[0]!.value.sum).toBeCloseTo(0.042, 12);
    expect(durations.dataPoints[0]!.value.buckets.boundaries).toEqual(durationBucketsMs.map((bound) => bound / 1000));
    const hits = byName.get('overseer.limiter.hit')!;
    expect(hits.dataPoints[0]!.attributes).toEqual({ limiter: 'api', allowed: true });
    expect(byName.has('overseer.limiter.hit.cost')).toBe(true);
    await provider.shutdown();
  });

  it('records durations in ms when asked', async () => {
    const { telemetry, collect, provider } = bridged({ durationUnit: 'ms' });
    telemetry.emit('pool.checkout', { duration: 7, waiting: 0 }, { pool: 'db', outcome: 'ok' });
    const durations = (await collect()).find((metric) => metric.descriptor.name === 'overseer.pool.checkout.duration') as HistogramMetricData;
    expect(durations.descriptor.unit).toBe('ms');
    expect(durations.dataPoints[0]!.value.sum).toBe(7);
    await provider.shutdown();
  });

  it.each([
    ['prefix', { prefix: 3 }],
    ['omitAttributes', { omitAttributes: 'key' }],
    ['durationUnit', { durationUnit: 'minutes' }],
  ])('refuses a bad %s with a ConfigError naming it', (option, options) => {
    const provider = new MeterProvider();
    expect(() => bridgeToOpenTelemetry(createTelemetry().events$, provider.getMeter('x'), options as never)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG', option }),
    );
    expect(() => bridgeToOpenTelemetry(createTelemetry().events$, provider.getMeter('x'), options as never)).toThrow(ConfigError);
  });
});

describe('the OpenTelemetry bridge never gives two instruments one name', () => {
  it('limiter.hit, whose measurement is named count, exports one counter and two histograms, all named apart', async () => {
    const { telemetry, collect, provider } = bridged();
    telemetry.emit('limiter.hit', { count: 1, cost: 1 }, { limiter: 'api', allowed: true });
    telemetry.emit('limiter.hit', { count: 2, cost: 1 }, { limiter: 'api', allowed: true });
    telemetry.emit('limiter.hit', { count: 2, cost: 1 }, { limiter: 'api', allowed: false, reason: 'limit' });
    const metrics = await collect();
    const names = metrics.map((metric) => metric.descriptor.name);
    expect(new Set(names).size).toBe(names.length);
    expect(diagnostics.filter((line) => /duplicate|already/i.test(line))).toEqual([]);
    const byName = new Map(metrics.map((metric) => [metric.descriptor.name, metric]));
    const hits = byName.get('overseer.limiter.hit')!;
    expect(hits.dataPointType).toBe(DataPointType.SUM);
    expect(hits.dataPoints.reduce((total, point) => total + (point.value as number), 0)).toBe(3);
    const counts = byName.get('overseer.limiter.hit.count') as HistogramMetricData;
    expect(counts.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(counts.dataPoints.reduce((total, point) => total + point.value.sum!, 0)).toBe(5);
    await provider.shutdown();
  });

  it('an event named like another event plus a measurement gets no second instrument of that name, and a warning says so', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }): void => void warnings.push(`${warning.code}: ${warning.message}`);
    process.on('warning', onWarning);
    const emitWarning = vi.spyOn(process, 'emitWarning');
    try {
      const { telemetry, collect, provider } = bridged();
      telemetry.emit('job.run', { attempts: 3 }, { job: 'a' });
      telemetry.emit('job.run.attempts', {}, { job: 'a' });
      telemetry.emit('job.run.attempts', {}, { job: 'a' });
      const names = (await collect()).map((metric) => metric.descriptor.name);
      expect(names.sort()).toEqual(['overseer.job.run', 'overseer.job.run.attempts']);
      expect(diagnostics.filter((line) => /duplicate|already/i.test(line))).toEqual([]);
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(String(emitWarning.mock.calls[0]![0])).toContain('overseer.job.run.attempts');
      await provider.shutdown();
    } finally {
      emitWarning.mockRestore();
      process.off('warning', onWarning);
    }
  });
});
