import { counter, lastValue, type Metric, type TelemetryEvent } from '../telemetry/index.js';
import { BreakerFleetEvents } from './breaker-fleet-events.js';

/** 1 when the event says this instance isolates the breaker, 0 when it says it no longer does. */
function isolated(event: TelemetryEvent): number {
  return event.name === BreakerFleetEvents.isolated ? 1 : 0;
}

/**
 * The metrics of a breaker fleet (`createBreakerFleet`), from its telemetry: which breakers this
 * instance isolates on behalf of the fleet, why isolations ended, and how often Redis failed it.
 * Add them to `overseerMetrics()` in a service whose breakers join a fleet (the breakers' own
 * `breaker_state_total` already counts the moves to `disabled` an isolation causes):
 *
 * - `breaker_fleet_isolated{fleet,breaker}` (gauge): 1 while this instance isolates the breaker,
 *   0 once it no longer does.
 * - `breaker_fleet_restored_total{fleet,breaker,why}`: isolations ended here, by why (`restored`,
 *   `expired`, `unconfirmed`: lifted because Redis could not confirm it in time).
 * - `breaker_fleet_unavailable_total{fleet,operation,reason}`: Redis operations that failed
 *   (`reason` `timeout` or `error`); the breakers went on locally meanwhile.
 *
 * Tagged by the fleet's prefix, breaker names and small closed sets, never by instance (a scrape's
 * own `instance` label says which one answered).
 *
 * @example
 * ```ts
 * const registry = startMetrics(telemetry.events$, [...overseerMetrics(), ...breakerFleetMetrics()]);
 * ```
 */
export function breakerFleetMetrics(): Metric[] {
  return [
    lastValue('breaker.fleet.isolated', {
      event: [BreakerFleetEvents.isolated, BreakerFleetEvents.restored],
      measurement: isolated,
      tags: ['fleet', 'breaker'],
      description: 'Whether this instance isolates the breaker on behalf of its fleet (1) or not (0)',
    }),
    counter('breaker.fleet.restored.count', { event: BreakerFleetEvents.restored, tags: ['fleet', 'breaker', 'why'], description: 'Isolations that ended on this instance, by why' }),
    counter('breaker.fleet.unavailable.count', {
      event: BreakerFleetEvents.unavailable,
      tags: ['fleet', 'operation', 'reason'],
      description: 'Breaker fleet operations Redis failed, by operation and reason',
    }),
  ];
}
