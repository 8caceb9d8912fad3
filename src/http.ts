/**
 * `overseer/http`: pools of HTTP clients to one origin (undici). undici is loaded when the first
 * client is created, not when this module is imported. Also exported from the root.
 *
 * Besides its own names it exports those its signatures use (the base error class, the pool,
 * clock and telemetry types), the same as the root's, so that this entry is complete.
 */
export {
  createHttpPool,
  httpWorkerFactory,
  HttpTimeoutError,
  isHttpTimeoutError,
  type HttpPool,
  type HttpPoolOptions,
  type HttpWorkerOptions,
  type HttpRequestOptions,
  type HttpResponse,
  type HttpTimeoutPhase,
  type HttpWorkerExitReason,
} from './pool/index.js';

// ---------------------------------------------------------------- shared with the root, used in the signatures above
export { OverseerError } from './core/index.js';
export { Telemetry, type TelemetryEvent, type TelemetryOptions } from './telemetry/index.js';
export type { Clock } from './clock/index.js';
export type {
  Pool,
  PoolOptions,
  PoolStatus,
  PoolReconfiguration,
  Lease,
  CheckoutOptions,
  WorkerFactory,
  WorkerContext,
} from './pool/index.js';
