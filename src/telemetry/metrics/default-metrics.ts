import { TelemetryEvents } from '../events.js';
import { counter } from './counter.js';
import { distribution } from './distribution.js';
import { lastValue } from './last-value.js';
import type { Metric } from './metric-operator.js';

/**
 * Bucket bounds in ms for call and checkout durations (the metrics carry `unit: 'millisecond'`, so
 * Prometheus sees them in seconds: 0.001 … 5).
 */
export const durationBucketsMs: readonly number[] = Object.freeze([1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]);

/**
 * The metrics of every event in the contract's telemetry table, ready for `startMetrics` and a
 * `/metrics` endpoint: supervisor starts, exits (by reason) and restarts; breaker calls (by
 * outcome, with a duration distribution) and state changes; limiter hits (by allowed); pool
 * checkouts (by outcome, duration distribution, waiting gauge) and worker exits.
 *
 * They are tagged only by component instance and by small closed sets (outcome, reason, state),
 * never by child id, limiter key or thread id, so the number of series does not grow with
 * dynamic children or keys. In Prometheus they are `supervisor_child_started_total`,
 * `breaker_call_total`, `breaker_call_duration_seconds` and so on (see the README).
 *
 * @example
 * ```ts
 * const registry = startMetrics(telemetry.events$, overseerMetrics());
 * ```
 */
export function overseerMetrics(): Metric[] {
  return [
    counter('supervisor.child.started.count', { event: TelemetryEvents.supervisorChildStarted, tags: ['supervisor'], description: 'Children started' }),
    counter('supervisor.child.exited.count', { event: TelemetryEvents.supervisorChildExited, tags: ['supervisor', 'reason'], description: 'Children exited, by reason' }),
    counter('supervisor.child.restarted.count', { event: TelemetryEvents.supervisorChildRestarted, tags: ['supervisor'], description: 'Children restarted' }),
    lastValue('supervisor.child.restarted.restarts', { tags: ['supervisor'], description: 'Restarts within the intensity window at the last restart' }),
    counter('supervisor.shutdown.count', { event: TelemetryEvents.supervisorShutdown, tags: ['supervisor', 'reason'], description: 'Supervisors that shut down, by reason' }),
    counter('breaker.call.count', { event: TelemetryEvents.breakerCall, tags: ['breaker', 'outcome'], description: 'Breaker calls, by outcome' }),
    distribution('breaker.call.duration', { tags: ['breaker'], buckets: durationBucketsMs, unit: 'millisecond', description: 'Breaker call duration in seconds', keep: (event) => event.metadata.outcome !== 'rejected' }),
    counter('breaker.state.count', { event: TelemetryEvents.breakerState, tags: ['breaker', 'to'], description: 'Breaker state changes, by new state' }),
    counter('limiter.hit.count', { event: TelemetryEvents.limiterHit, tags: ['limiter', 'allowed'], description: 'Limiter hits, by decision' }),
    counter('pool.checkout.count', { event: TelemetryEvents.poolCheckout, tags: ['pool', 'outcome'], description: 'Pool checkouts, by outcome' }),
    distribution('pool.checkout.duration', { tags: ['pool'], buckets: durationBucketsMs, unit: 'millisecond', description: 'Pool checkout wait in seconds' }),
    lastValue('pool.checkout.waiting', { tags: ['pool'], description: 'Checkouts waiting at the last checkout' }),
    counter('pool.worker.exit.count', { event: TelemetryEvents.poolWorkerExit, tags: ['pool', 'reason'], description: 'Pool workers that exited, by reason' }),
  ];
}
