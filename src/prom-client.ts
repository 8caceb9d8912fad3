/**
 * `overseer/prom-client`: overseer's metrics as collectors in the application's own prom-client
 * registry (prom-client is an optional peer: this module never imports it). Also exported from
 * the root.
 */
export { bridgeToPromClient, type PromClientBridge, type PromClientBridgeOptions, type PromClientRegistry } from './telemetry/prom-client.js';
// The types of the metrics the bridge exports and of the events they read, the same as the root's, so that this entry is complete.
export type {
  Metric,
  MetricType,
  MetricDefinition,
  MetricReading,
  MetricSnapshot,
  SeriesSnapshot,
  ScalarValue,
  SummaryValue,
  DistributionValue,
} from './telemetry/metrics/index.js';
export type { TelemetryEvent } from './telemetry/index.js';
