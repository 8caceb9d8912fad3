import { merge } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, isConfigError, lastValue, overseerMetrics, startMetrics, toPrometheus, type MetricSnapshot } from '../../../../src/index.js';
import { leaseMetrics } from '../../../../src/telemetry/metrics/index.js';
import { breakerFleetMetrics } from '../../../../src/cluster/breaker-fleet-metrics.js';
import { FakeLeaseStore, advance, fakeLease } from '../../../support/cluster.js';
import { FakePubSubRedis, fakeInstance, settle } from '../../../support/cluster-breakers.js';
import { parseStrictly, promtoolCheck, promtoolRequired } from '../../../monitoring/exposition-checks.js';

/** The value of one series of the metric `name` in a snapshot, by its tags. */
function valueOf(snapshot: MetricSnapshot[], name: string, tags: Record<string, string>): unknown {
  const metric = snapshot.find((entry) => entry.definition.name === name);
  const series = metric?.series.find((entry) => Object.entries(tags).every(([key, value]) => entry.tags[key] === value));
  return series === undefined ? undefined : series.value.kind === 'scalar' ? series.value.value : series.value;
}

describe('a metric of several events', () => {
  it('listens to each event it names, reads its value from each, and ignores the others', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const registry = startMetrics(telemetry.events$, [
      lastValue('door.open', { event: ['door.opened', 'door.closed'], measurement: (event) => (event.name === 'door.opened' ? 1 : 0), tags: ['door'] }),
    ]);
    telemetry.emit('door.opened', {}, { door: 'front' });
    expect(valueOf(registry.snapshot(), 'door.open', { door: 'front' })).toBe(1);
    telemetry.emit('door.painted', {}, { door: 'front' });
    telemetry.emit('door.closed', {}, { door: 'front' });
    expect(valueOf(registry.snapshot(), 'door.open', { door: 'front' })).toBe(0);
    expect(registry.snapshot()[0]!.definition.events).toEqual(['door.opened', 'door.closed']);
    expect(registry.snapshot()[0]!.definition.event).toBe('door.opened');
  });

  it('works as an operator on a stream of every event too', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const readings: number[] = [];
    telemetry.events$
      .pipe(lastValue('door.open', { event: ['door.opened', 'door.closed'], measurement: (event) => (event.name === 'door.opened' ? 1 : 0) }))
      .subscribe((reading) => readings.push(reading.snapshot().series[0]!.value.kind === 'scalar' ? (reading.snapshot().series[0]!.value as { value: number }).value : NaN));
    telemetry.emit('door.opened');
    telemetry.emit('door.other');
    telemetry.emit('door.closed');
    expect(readings).toEqual([1, 0]);
  });

  it('refuses an empty list or a list with something other than event names, naming the option', () => {
    for (const event of [[], [''], ['door.opened', 3], {}]) {
      let thrown: unknown;
      try {
        lastValue('door.open', { event: event as string[] });
      } catch (error) {
        thrown = error;
      }
      expect(isConfigError(thrown)).toBe(true);
      expect((thrown as Error).message).toContain('event');
    }
  });
});

describe('leaseMetrics()', () => {
  it('shows which owner holds which lease with which fence, and turns to 0 when it is lost or released', async () => {
    const clock = createTestClock();
    const store = new FakeLeaseStore(clock);
    const a = fakeLease(store, { owner: 'a', ttlMs: 3000, name: 'reports' });
    const b = fakeLease(store, { owner: 'b', ttlMs: 3000, name: 'reports' });
    const registryA = startMetrics(a.telemetry.events$, leaseMetrics());
    const registryB = startMetrics(b.telemetry.events$, leaseMetrics());

    await a.lease.acquire();
    await b.lease.acquire();
    await advance(clock, 2500);
    expect(valueOf(registryA.snapshot(), 'lease.held', { lease: 'reports', owner: 'a' })).toBe(1);
    expect(valueOf(registryA.snapshot(), 'lease.fence', { lease: 'reports', owner: 'a' })).toBe(1);
    // b never held it: no series, not a 0 that says nothing.
    expect(valueOf(registryB.snapshot(), 'lease.held', { lease: 'reports' })).toBeUndefined();
    // Renewals every ttlMs / 3, each with its round trip.
    const renewals = valueOf(registryA.snapshot(), 'lease.renewed.duration', { lease: 'reports' }) as { count: number };
    expect(renewals.count).toBe(a.named('lease.renewed').length);
    expect(renewals.count).toBeGreaterThanOrEqual(2);

    await a.lease.release();
    expect(valueOf(registryA.snapshot(), 'lease.held', { lease: 'reports', owner: 'a' })).toBe(0);
    expect(valueOf(registryA.snapshot(), 'lease.fence', { lease: 'reports', owner: 'a' })).toBe(1);
    await b.lease.acquire();
    expect(valueOf(registryB.snapshot(), 'lease.held', { lease: 'reports', owner: 'b' })).toBe(1);
    expect(valueOf(registryB.snapshot(), 'lease.fence', { lease: 'reports', owner: 'b' })).toBe(2);
    expect(valueOf(registryB.snapshot(), 'lease.acquired.count', { lease: 'reports', owner: 'b' })).toBe(1);

    // The store stops answering: b loses it when its local deadline passes.
    store.setMode('failing');
    await advance(clock, 3000);
    expect(b.named('lease.lost')).toHaveLength(1);
    expect(valueOf(registryB.snapshot(), 'lease.held', { lease: 'reports', owner: 'b' })).toBe(0);
    expect(valueOf(registryB.snapshot(), 'lease.lost.count', { lease: 'reports', owner: 'b', reason: b.named('lease.lost')[0]!.metadata.reason as string })).toBe(1);
    registryA.stop();
    registryB.stop();
  });
});

describe('breakerFleetMetrics()', () => {
  it('shows the breakers this instance isolates, why isolations ended, and Redis failures', async () => {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    const a = fakeInstance(server, { instance: 'a' });
    const b = fakeInstance(server, { instance: 'b' });
    const registry = startMetrics(b.telemetry.events$, breakerFleetMetrics());
    b.breaker('payments');
    await advance(clock, 20);
    await settle(clock, a.fleet.isolate('payments'));
    await advance(clock, 20);
    expect(valueOf(registry.snapshot(), 'breaker.fleet.isolated', { fleet: 'overseer', breaker: 'payments' })).toBe(1);
    await settle(clock, a.fleet.restore('payments'));
    await advance(clock, 20);
    expect(valueOf(registry.snapshot(), 'breaker.fleet.isolated', { fleet: 'overseer', breaker: 'payments' })).toBe(0);
    expect(valueOf(registry.snapshot(), 'breaker.fleet.restored.count', { fleet: 'overseer', breaker: 'payments', why: 'restored' })).toBe(1);
    server.down();
    await advance(clock, 1500);
    const failures = registry.snapshot().find((entry) => entry.definition.name === 'breaker.fleet.unavailable.count')!.series;
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((series) => series.tags.fleet === 'overseer' && ['timeout', 'error'].includes(series.tags.reason!))).toBe(true);
    registry.stop();
    await settle(clock, Promise.all([a.fleet.stop(), b.fleet.stop()]));
  });
});

describe('their Prometheus exposition', () => {
  /** A registry of every default, lease and fleet metric after a lease was held and a breaker isolated. */
  async function scrape(): Promise<string> {
    const clock = createTestClock();
    const store = new FakeLeaseStore(clock);
    const held = fakeLease(store, { owner: 'api-2', name: 'reports' });
    const server = new FakePubSubRedis(clock);
    const instance = fakeInstance(server, { instance: 'api-2' });
    const registry = startMetrics(merge(held.telemetry.events$, instance.telemetry.events$), [...overseerMetrics(), ...leaseMetrics(), ...breakerFleetMetrics()]);
    await held.lease.acquire();
    await advance(clock, 1100);
    instance.breaker('payments');
    await settle(clock, instance.fleet.isolate('payments'));
    const text = toPrometheus(registry.snapshot());
    registry.stop();
    await settle(clock, instance.fleet.stop());
    return text;
  }

  it('names them by the Prometheus conventions: gauges lease_held and lease_fence, counters ending in _total, durations in seconds', async () => {
    const families = parseStrictly(await scrape());
    expect(families.get('lease_held')).toMatchObject({ type: 'GAUGE', metrics: [{ labels: { lease: 'reports', owner: 'api-2' }, value: '1' }] });
    expect(families.get('lease_fence')).toMatchObject({ type: 'GAUGE', metrics: [{ labels: { lease: 'reports', owner: 'api-2' }, value: '1' }] });
    expect(families.get('lease_acquired_total')?.type).toBe('COUNTER');
    expect(families.get('lease_renewed_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(families.get('breaker_fleet_isolated')).toMatchObject({ type: 'GAUGE', metrics: [{ labels: { fleet: 'overseer', breaker: 'payments' }, value: '1' }] });
  });

  it.runIf(promtoolRequired())('promtool check metrics accepts them without a lint problem', async () => {
    expect(promtoolCheck(await scrape())).toEqual({ status: 0, output: '' });
  });
});
