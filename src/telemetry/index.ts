export { Telemetry, createTelemetry, telemetry } from './telemetry.js';
export type { TelemetryEvent, TelemetryOptions } from './telemetry.js';
export { TelemetryEvents, type TelemetryEventName } from './events.js';
export * from './metrics/index.js';
