import { TelemetryEvents } from '../events.js';
import type { TelemetryEvent } from '../telemetry.js';
import { counter } from './counter.js';
import { durationBucketsMs } from './default-metrics.js';
import { distribution } from './distribution.js';
import { lastValue } from './last-value.js';
import type { Metric } from './metric-operator.js';

/** Every event that changes whether an owner holds a lease. */
const leaseEvents: readonly string[] = Object.freeze([
  TelemetryEvents.leaseAcquired,
  TelemetryEvents.leaseRenewed,
  TelemetryEvents.leaseLost,
  TelemetryEvents.leaseReleased,
]);

/** 1 after an acquisition or renewal, 0 after a loss or release. */
function held(event: TelemetryEvent): number {
  return event.name === TelemetryEvents.leaseAcquired || event.name === TelemetryEvents.leaseRenewed ? 1 : 0;
}

/** The fence the event names (every lease event carries it). */
function fence(event: TelemetryEvent): number | undefined {
  const value = event.metadata.fence;
  return typeof value === 'number' ? value : undefined;
}

/**
 * The metrics of cluster leases (`createPostgresLease`, `createRedisLease`, and so of the
 * singleton children they guard), from their telemetry: which owner holds which lease, with which
 * fence, how long renewals take, and why leases were lost. Add them to {@link overseerMetrics}
 * in a service that holds leases; in Prometheus, one instance's scrape then answers "does this
 * instance hold it, and with which fence":
 *
 * - `lease_held{lease,owner}` (gauge): 1 while this owner holds the lease (acquired or renewed
 *   last), 0 once it lost or released it; no series for an owner that never held it.
 * - `lease_fence{lease,owner}` (gauge): the fence of its current (or last) holding.
 * - `lease_acquired_total{lease,owner}`: takeovers by this owner.
 * - `lease_lost_total{lease,owner,reason}`: losses, by reason (`expired`, `taken`, `unavailable`).
 * - `lease_renewed_duration_seconds{lease}` (histogram): the round trip of each renewal.
 *
 * Tagged by lease name and owner only: an owner is one per lease object, so the series stay few
 * (a process that makes a new lease object per restart makes a new owner id, and one series more).
 *
 * @example
 * ```ts
 * const registry = startMetrics(telemetry.events$, [...overseerMetrics(), ...leaseMetrics()]);
 * // lease_held{lease="reports",owner="api-2"} 1   lease_fence{lease="reports",owner="api-2"} 17
 * ```
 */
export function leaseMetrics(): Metric[] {
  return [
    lastValue('lease.held', {
      event: leaseEvents,
      measurement: held,
      tags: ['lease', 'owner'],
      description: 'Whether this owner holds the lease: 1 after it acquired or renewed it, 0 after it lost or released it',
    }),
    lastValue('lease.fence', {
      event: leaseEvents,
      measurement: fence,
      tags: ['lease', 'owner'],
      description: 'The fence of the lease as this owner holds it, or last held it',
    }),
    counter('lease.acquired.count', { event: TelemetryEvents.leaseAcquired, tags: ['lease', 'owner'], description: 'Leases taken over by this owner' }),
    counter('lease.lost.count', { event: TelemetryEvents.leaseLost, tags: ['lease', 'owner', 'reason'], description: 'Leases lost, by reason' }),
    distribution('lease.renewed.duration', {
      tags: ['lease'],
      buckets: durationBucketsMs,
      unit: 'millisecond',
      description: 'Lease renewal round trip in seconds',
    }),
  ];
}
