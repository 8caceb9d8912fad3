/**
 * `overseer/prom-client`: overseer's metrics as collectors in the application's own prom-client
 * registry (prom-client is an optional peer: this module never imports it). Also exported from
 * the root.
 */
export { bridgeToPromClient, type PromClientBridge, type PromClientBridgeOptions, type PromClientRegistry } from './telemetry/prom-client.js';
