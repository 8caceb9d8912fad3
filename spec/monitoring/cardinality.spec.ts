import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  bridgeToOpenTelemetry,
  counter,
  createTelemetry,
  createTestClock,
  overseerMetrics,
  startDynamicSupervisor,
  startMetrics,
  toPrometheus,
  type MetricSnapshot,
} from '../../src/index.js';
import { workerMachine } from '../support/actors.js';
import { flush } from '../support/supervision.js';

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const seriesCount = (snapshot: readonly MetricSnapshot[]): number => snapshot.reduce((total, metric) => total + metric.series.length, 0);

/** Lines of an exposition that are samples (not HELP, TYPE or comments). */
const sampleLines = (text: string): string[] => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

const shortLivedChildren = 3_000;

/**
 * A real dynamic supervisor on a test clock starts 3,000 temporary children one after the other,
 * each of which finishes at once (a 'normal' exit) and is forgotten; every child gets a new
 * generated id. The default metrics, their exposition and the OpenTelemetry bridge listen all along.
 */
async function runShortLivedChildren() {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const registry = startMetrics(telemetry.events$, overseerMetrics());
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const bridge = bridgeToOpenTelemetry(telemetry.events$, provider.getMeter('overseer'));
  const supervisor = await startDynamicSupervisor({ id: 'sessions', clock, telemetry, maxChildren: 10 });
  const machine = workerMachine();
  const ids = new Set<string>();
  for (let index = 0; index < shortLivedChildren; index += 1) {
    const actor = createActor(machine, { clock });
    const { id } = await supervisor.startChild({ start: () => actor, restart: 'temporary' });
    ids.add(id);
    actor.send({ type: 'FINISH' });
    await flush();
  }
  expect(ids.size).toBe(shortLivedChildren);
  expect(supervisor.countChildren().specs).toBe(0);
  const { resourceMetrics } = await reader.collect();
  const otel = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .flatMap((metric) => metric.dataPoints.map((point) => ({ name: metric.descriptor.name, attributes: point.attributes, value: point.value })));
  const snapshot = registry.snapshot();
  await supervisor.stop();
  bridge.stop();
  await provider.shutdown();
  registry.stop();
  return { snapshot, text: toPrometheus(snapshot), otel, ids };
}

describe('default metrics keep a bounded number of series however many dynamic children come and go', () => {
  it('3,000 short-lived temporary children leave two series, none naming a child', async () => {
    const { snapshot, text, otel, ids } = await runShortLivedChildren();
    // One started series and one exited{reason="normal"} series for the supervisor, whatever the number of children.
    expect(seriesCount(snapshot)).toBe(2);
    expect(sampleLines(text)).toEqual([
      'supervisor_child_started_total{supervisor="sessions"} 3000',
      'supervisor_child_exited_total{supervisor="sessions",reason="normal"} 3000',
    ]);
    expect(text.length).toBeLessThan(4_000);
    for (const id of ids) expect(text.includes(`"${id}"`)).toBe(false);
    // The OpenTelemetry bridge drops the child attribute as well.
    expect(otel).toEqual([
      { name: 'overseer.supervisor.child.started', attributes: { supervisor: 'sessions' }, value: 3000 },
      { name: 'overseer.supervisor.child.exited', attributes: { supervisor: 'sessions', reason: 'normal' }, value: 3000 },
    ]);
  });
});

describe('a metric never holds more than maxSeries series; the series it refused are counted', () => {
  it('a counter tagged by child with maxSeries 100 keeps 100 series and counts the 2,900 refused', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const registry = startMetrics(telemetry.events$, [
      counter('supervisor.child.started.count', { tags: ['child'], maxSeries: 100, description: 'Starts per child' }),
    ]);
    for (let index = 0; index < shortLivedChildren; index += 1) {
      telemetry.emit('supervisor.child.started', undefined, { supervisor: 'sessions', child: `sessions#${index + 1}` });
    }
    const [metric] = registry.snapshot();
    expect(metric!.series).toHaveLength(100);
    expect(metric!.droppedSeries).toBe(shortLivedChildren - 100);
    // Events of a series that exists are still counted once the cap is reached.
    telemetry.emit('supervisor.child.started', undefined, { supervisor: 'sessions', child: 'sessions#1' });
    expect(registry.snapshot()[0]!.series[0]!.value).toEqual({ kind: 'scalar', value: 2 });
    const text = toPrometheus(registry.snapshot());
    expect(text).toContain('# TYPE overseer_metric_series_dropped_total counter');
    expect(text).toContain('overseer_metric_series_dropped_total{metric="supervisor_child_started_total"} 2900');
    expect(sampleLines(text)).toHaveLength(101);
    registry.stop();
  });

  it('the default cap holds when a user tags by child without choosing one', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const registry = startMetrics(telemetry.events$, [counter('supervisor.child.started.count', { tags: ['child'] })]);
    for (let index = 0; index < 5_000; index += 1) telemetry.emit('supervisor.child.started', undefined, { child: `c${index}` });
    const [metric] = registry.snapshot();
    expect(metric!.series).toHaveLength(2_000);
    expect(metric!.droppedSeries).toBe(3_000);
    registry.stop();
  });
});

describe('the OpenTelemetry bridge keeps thread ids out of its attributes', () => {
  it('3,000 thread crashes of one pool give one data point per instrument', async () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    const bridge = bridgeToOpenTelemetry(telemetry.events$, provider.getMeter('overseer'));
    for (let thread = 1; thread <= shortLivedChildren; thread += 1) {
      telemetry.emit('pool.worker.exit', { uptime: thread }, { pool: 'cpu', reason: 'exit', thread, exitCode: 1 });
    }
    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    expect(metrics.length).toBeGreaterThan(0);
    for (const metric of metrics) {
      expect(metric.dataPoints).toHaveLength(1);
      expect(metric.dataPoints[0]!.attributes).toEqual({ pool: 'cpu', reason: 'exit', exitCode: 1 });
    }
    bridge.stop();
    await provider.shutdown();
  });
});
