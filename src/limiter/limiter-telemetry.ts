import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import type { Decision } from './decision.js';

/**
 * Emits `limiter.hit`: measurements `count` (the key's count after an admitted hit; the units
 * counted against it for a hit denied for the limit; 0 for one refused for its cost alone, for
 * which the key is not looked up) and `cost`; metadata `limiter`, `allowed`, `reason` when
 * denied, and `key` only when the limiter was built with `telemetryKeys: true`.
 * Callers check `telemetry.observed` first, so nothing is built when no one listens.
 */
export function reportHit(
  telemetry: Telemetry,
  limiter: string,
  key: string | undefined,
  decision: Decision,
  cost: number,
  usedWhenDenied: number,
): void {
  const metadata: Record<string, unknown> = decision.allowed
    ? { limiter, allowed: true }
    : { limiter, allowed: false, reason: decision.reason };
  if (key !== undefined) metadata.key = key;
  telemetry.emit(TelemetryEvents.limiterHit, { count: decision.allowed ? decision.count : usedWhenDenied, cost }, metadata);
}
