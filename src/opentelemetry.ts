/**
 * `overseer/opentelemetry`: telemetry events as OpenTelemetry metrics, on a `Meter` the
 * application gives (`@opentelemetry/api` is an optional peer: this module imports only its
 * types). Also exported from the root.
 */
export { bridgeToOpenTelemetry, type OpenTelemetryBridge, type OpenTelemetryBridgeOptions } from './telemetry/opentelemetry.js';
