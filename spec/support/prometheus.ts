import { createTelemetry, createTestClock, startMetrics, toPrometheus, type Metric } from '../../src/index.js';

/** Emits an event: its name, measurements and metadata. */
export type EmitEvent = (name: string, measurements?: Record<string, number>, metadata?: Record<string, unknown>) => void;

/**
 * The Prometheus text of `metrics` after `emitAll` has emitted its events on a fresh telemetry
 * (test clock); the registry is stopped before it returns.
 */
export function scrape(metrics: readonly Metric[], emitAll: (emit: EmitEvent) => void): string {
  const telemetry = createTelemetry({ clock: createTestClock() });
  const registry = startMetrics(telemetry.events$, metrics);
  emitAll((name, measurements, metadata) => telemetry.emit(name, measurements, metadata));
  const text = toPrometheus(registry.snapshot());
  registry.stop();
  return text;
}
