/**
 * `overseer/http`: pools of HTTP clients to one origin (undici). undici is loaded when the first
 * client is created, not when this module is imported. Also exported from the root.
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
