import { TelemetryEvents } from '../telemetry/index.js';

/**
 * The telemetry events of a breaker fleet. Metadata always holds `fleet` (the prefix) and
 * `instance`. The names are those of the one table, `TelemetryEvents` (`breakerFleetIsolated`,
 * ...), gathered here for subscribers to a fleet.
 *
 * - `breaker.fleet.isolated` (metadata breaker, by, reason): this instance now isolates `breaker`.
 * - `breaker.fleet.restored` (metadata breaker, why: `'restored' | 'expired' | 'unconfirmed'`):
 *   it no longer does.
 * - `breaker.fleet.unavailable` (metadata operation, reason: `'timeout' | 'error'`, error): a
 *   Redis operation failed; every failure is reported, the breakers go on locally.
 * - `breaker.fleet.available` (metadata operation): Redis answered again after a failure.
 */
export const BreakerFleetEvents = Object.freeze({
  isolated: TelemetryEvents.breakerFleetIsolated,
  restored: TelemetryEvents.breakerFleetRestored,
  unavailable: TelemetryEvents.breakerFleetUnavailable,
  available: TelemetryEvents.breakerFleetAvailable,
} as const);
