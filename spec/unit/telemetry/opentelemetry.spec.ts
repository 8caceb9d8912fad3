import { AggregationTemporality, MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { bridgeToOpenTelemetry, createTelemetry, createTestClock } from '../../../src/index.js';

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

describe('OpenTelemetry bridge', () => {
  it('turns events into counters and measurement histograms with scalar metadata as attributes', async () => {
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    const telemetry = createTelemetry({ clock: createTestClock() });
    const bridge = bridgeToOpenTelemetry(telemetry.events$, provider.getMeter('overseer'));
    telemetry.emit('breaker.call', { duration: 12 }, { breaker: 'payments', outcome: 'success' });
    telemetry.emit('breaker.call', { duration: 30 }, { breaker: 'payments', outcome: 'success' });
    telemetry.emit('limiter.hit', { count: 1, cost: 1 }, { limiter: 'api', allowed: true, key: 'alice', error: new Error('x') });
    bridge.stop();
    telemetry.emit('breaker.call', { duration: 99 }, { breaker: 'payments', outcome: 'success' });
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const byName = new Map(metrics.map((metric) => [metric.descriptor.name, metric]));
    const calls = byName.get('overseer.breaker.call.count')!;
    expect(calls.dataPoints).toHaveLength(1);
    expect(calls.dataPoints[0]!.value).toBe(2);
    expect(calls.dataPoints[0]!.attributes).toEqual({ breaker: 'payments', outcome: 'success' });
    const durations = byName.get('overseer.breaker.call.duration') as HistogramMetricData;
    expect(durations.descriptor.unit).toBe('ms');
    expect(durations.dataPoints[0]!.value).toMatchObject({ count: 2, sum: 42, min: 12, max: 30 });
    const hits = byName.get('overseer.limiter.hit.count')!;
    expect(hits.dataPoints[0]!.attributes).toEqual({ limiter: 'api', allowed: true });
    expect(byName.has('overseer.limiter.hit.cost')).toBe(true);
    await provider.shutdown();
  });
});
