/**
 * `overseer/opentelemetry`: telemetry events as OpenTelemetry metrics, on a `Meter` the
 * application gives (`@opentelemetry/api` is an optional peer: this module imports only its
 * types). Also exported from the root.
 */
export { bridgeToOpenTelemetry, type OpenTelemetryBridge, type OpenTelemetryBridgeOptions, type OpenTelemetryMeter } from './telemetry/opentelemetry.js';
// The type of the events the bridge reads, the same as the root's, so that this entry is complete.
export type { TelemetryEvent } from './telemetry/index.js';
