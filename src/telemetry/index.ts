export { Telemetry, createTelemetry, telemetry } from './telemetry.js';
export type { TelemetryEvent, TelemetryOptions } from './telemetry.js';
export { TelemetryEvents, type TelemetryEventName } from './events.js';
export * from './metrics/index.js';
export { bridgeToOpenTelemetry, type OpenTelemetryBridge, type OpenTelemetryBridgeOptions } from './opentelemetry.js';
export {
  bridgeToPromClient,
  type PromClientBridge,
  type PromClientBridgeOptions,
  type PromClientRegistry,
} from './prom-client.js';
