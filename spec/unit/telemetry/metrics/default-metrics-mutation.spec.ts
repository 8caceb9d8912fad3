import { describe, expect, it } from 'vitest';
import { durationBucketsMs, leaseMetrics, overseerMetrics, type TelemetryEvent } from '../../../../src/index.js';

const anEvent = (name: string, metadata: Record<string, unknown>): TelemetryEvent => ({ name, time: 0, measurements: {}, metadata });

describe('overseerMetrics', () => {
  it('defines one metric per telemetry event, tagged by instance and small closed sets, with its HELP text', () => {
    const table = overseerMetrics().map(({ definition }) => [definition.name, definition.type, definition.events, definition.tags, definition.unit, definition.description]);
    expect(table).toEqual([
      ['supervisor.child.started.count', 'counter', ['supervisor.child.started'], ['supervisor'], undefined, 'Children started'],
      ['supervisor.child.exited.count', 'counter', ['supervisor.child.exited'], ['supervisor', 'reason'], undefined, 'Children exited, by reason'],
      ['supervisor.child.restarted.count', 'counter', ['supervisor.child.restarted'], ['supervisor'], undefined, 'Children restarted'],
      ['supervisor.child.restarted.restarts', 'last_value', ['supervisor.child.restarted'], ['supervisor'], undefined, 'Restarts within the intensity window at the last restart'],
      ['supervisor.shutdown.count', 'counter', ['supervisor.shutdown'], ['supervisor', 'reason'], undefined, 'Supervisors that shut down, by reason'],
      ['breaker.call.count', 'counter', ['breaker.call'], ['breaker', 'outcome'], undefined, 'Breaker calls, by outcome'],
      ['breaker.call.duration', 'distribution', ['breaker.call'], ['breaker'], 'millisecond', 'Breaker call duration in seconds'],
      ['breaker.state.count', 'counter', ['breaker.state'], ['breaker', 'to'], undefined, 'Breaker state changes, by new state'],
      ['limiter.hit.count', 'counter', ['limiter.hit'], ['limiter', 'allowed'], undefined, 'Limiter hits, by decision'],
      ['pool.checkout.count', 'counter', ['pool.checkout'], ['pool', 'outcome'], undefined, 'Pool checkouts, by outcome'],
      ['pool.checkout.duration', 'distribution', ['pool.checkout'], ['pool'], 'millisecond', 'Pool checkout wait in seconds'],
      ['pool.checkout.waiting', 'last_value', ['pool.checkout'], ['pool'], undefined, 'Checkouts waiting at the last checkout'],
      ['pool.worker.exit.count', 'counter', ['pool.worker.exit'], ['pool', 'reason'], undefined, 'Pool workers that exited, by reason'],
    ]);
  });

  it('times breaker calls that ran, not rejected ones', () => {
    const duration = overseerMetrics().find(({ definition }) => definition.name === 'breaker.call.duration')!.definition;
    expect(duration.buckets).toEqual(durationBucketsMs);
    expect(duration.keep!(anEvent('breaker.call', { outcome: 'success' }))).toBe(true);
    expect(duration.keep!(anEvent('breaker.call', { outcome: 'failure' }))).toBe(true);
    expect(duration.keep!(anEvent('breaker.call', { outcome: 'rejected' }))).toBe(false);
  });
});

describe('leaseMetrics', () => {
  it('reads the fence only when the event carries a number', () => {
    const fence = leaseMetrics().find(({ definition }) => definition.name === 'lease.fence')!.definition;
    expect(fence.readMeasurement(anEvent('lease.acquired', { fence: 17 }))).toBe(17);
    expect(fence.readMeasurement(anEvent('lease.acquired', { fence: '17' }))).toBeUndefined();
    expect(fence.readMeasurement(anEvent('lease.acquired', {}))).toBeUndefined();
  });
});
