import { describe, expect, it } from 'vitest';
import {
  collectMetrics,
  counter,
  createTelemetry,
  createTestClock,
  lastValue,
  startMetrics,
  sum,
  type MetricsReading,
} from '../../../../src/index.js';

function setup() {
  const telemetry = createTelemetry({ clock: createTestClock() });
  const metrics = [
    counter('breaker.call.count', { tags: ['outcome'] }),
    sum('limiter.hit.cost'),
    lastValue('pool.checkout.waiting'),
  ];
  return { telemetry, metrics };
}

describe('collectMetrics feeds every event to several metrics in one pass', () => {
  it('emits the combined reading, in the order the metrics were given, after each counted event', () => {
    const { telemetry, metrics } = setup();
    const readings: MetricsReading[] = [];
    telemetry.events$.pipe(collectMetrics(metrics)).subscribe((reading) => readings.push(reading));

    telemetry.emit('breaker.call', { duration: 1 }, { outcome: 'success' });
    telemetry.emit('supervisor.shutdown');
    telemetry.emit('limiter.hit', { cost: 2 });
    telemetry.emit('limiter.hit', { count: 1 });
    telemetry.emit('pool.checkout', { waiting: 3 });
    telemetry.emit('breaker.call', { duration: 1 }, { outcome: 'failure' });

    expect(readings).toHaveLength(4);
    const snapshot = readings.at(-1)!.snapshot();
    expect(snapshot.map((metric) => metric.definition.name)).toEqual(['breaker.call.count', 'limiter.hit.cost', 'pool.checkout.waiting']);
    expect(snapshot.map((metric) => metric.series)).toEqual([
      [
        { tags: { outcome: 'success' }, value: { kind: 'scalar', value: 1 } },
        { tags: { outcome: 'failure' }, value: { kind: 'scalar', value: 1 } },
      ],
      [{ tags: {}, value: { kind: 'scalar', value: 2 } }],
      [{ tags: {}, value: { kind: 'scalar', value: 3 } }],
    ]);
  });

  it('gives copies: a snapshot taken earlier does not change later', () => {
    const { telemetry, metrics } = setup();
    let latest: MetricsReading | undefined;
    telemetry.events$.pipe(collectMetrics(metrics)).subscribe((reading) => (latest = reading));
    telemetry.emit('limiter.hit', { cost: 2 });
    const before = latest!.snapshot();
    telemetry.emit('limiter.hit', { cost: 5 });
    expect(before[1]!.series[0]!.value).toEqual({ kind: 'scalar', value: 2 });
    expect(latest!.snapshot()[1]!.series[0]!.value).toEqual({ kind: 'scalar', value: 7 });
  });

  it('starts each subscription from zero', () => {
    const { telemetry, metrics } = setup();
    const first: MetricsReading[] = [];
    telemetry.events$.pipe(collectMetrics(metrics)).subscribe((reading) => first.push(reading));
    telemetry.emit('limiter.hit', { cost: 2 });
    const second: MetricsReading[] = [];
    telemetry.events$.pipe(collectMetrics(metrics)).subscribe((reading) => second.push(reading));
    telemetry.emit('limiter.hit', { cost: 5 });
    expect(first.at(-1)!.snapshot()[1]!.series[0]!.value).toEqual({ kind: 'scalar', value: 7 });
    expect(second.at(-1)!.snapshot()[1]!.series[0]!.value).toEqual({ kind: 'scalar', value: 5 });
  });
});

describe('startMetrics keeps metric state for scrapes until stopped', () => {
  it('snapshots every metric, including those with no series yet', () => {
    const { telemetry, metrics } = setup();
    const registry = startMetrics(telemetry.events$, metrics);
    expect(registry.snapshot().map((metric) => [metric.definition.name, metric.series])).toEqual([
      ['breaker.call.count', []],
      ['limiter.hit.cost', []],
      ['pool.checkout.waiting', []],
    ]);
    telemetry.emit('breaker.call', {}, { outcome: 'timeout' });
    telemetry.emit('breaker.call', {}, { outcome: 'timeout' });
    telemetry.emit('pool.checkout', { waiting: 1 });
    expect(registry.snapshot().map((metric) => metric.series)).toEqual([
      [{ tags: { outcome: 'timeout' }, value: { kind: 'scalar', value: 2 } }],
      [],
      [{ tags: {}, value: { kind: 'scalar', value: 1 } }],
    ]);
    registry.stop();
  });

  it('stop() unsubscribes: later events are not counted and emit is free again', () => {
    const { telemetry, metrics } = setup();
    const registry = startMetrics(telemetry.events$, metrics);
    expect(telemetry.observed).toBe(true);
    telemetry.emit('limiter.hit', { cost: 1 });
    registry.stop();
    expect(telemetry.observed).toBe(false);
    telemetry.emit('limiter.hit', { cost: 10 });
    expect(registry.snapshot()[1]!.series).toEqual([{ tags: {}, value: { kind: 'scalar', value: 1 } }]);
  });
});
