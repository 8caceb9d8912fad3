export { createPool, type Pool, type Lease, type PoolStatus, type CheckoutOptions, type PoolReconfiguration } from './resource-pool.js';
export { poolChild, type PoolChildSpec } from './pool-child.js';
export type { PoolOptions, WorkerFactory, WorkerContext } from './options.js';
export {
  PoolFullError,
  PoolTimeoutError,
  PoolStoppedError,
  PoolAbortedError,
  WorkerExitedError,
  isPoolFullError,
  isPoolTimeoutError,
  isPoolStoppedError,
  isPoolAbortedError,
  isWorkerExitedError,
} from './errors.js';
export type { PoolSnapshot } from './pool-actor.js';
export {
  createThreadPool,
  threadPoolChild,
  type ThreadPool,
  type ThreadPoolStatus,
  type ThreadRunOptions,
  type ThreadPoolChildSpec,
} from './thread-pool.js';
export type { ThreadPoolOptions } from './thread-options.js';
export type { ThreadTaskHandler } from './thread-protocol.js';
export {
  WorkerCrashedError,
  WorkerStartError,
  UncloneableValueError,
  TaskAbortedError,
  isWorkerCrashedError,
  isWorkerStartError,
  isUncloneableValueError,
  isTaskAbortedError,
  type UncloneablePart,
  type ThreadCrashReason,
  type ThreadCrash,
  type ThreadStartFailure,
} from './thread-errors.js';
export {
  httpWorkerFactory,
  createHttpPool,
  type HttpWorkerOptions,
  type HttpPoolOptions,
  type HttpPool,
  type HttpRequestOptions,
  type HttpResponse,
  type HttpWorkerExitReason,
} from './http-pool.js';
export { HttpTimeoutError, isHttpTimeoutError, type HttpTimeoutPhase } from './http-errors.js';
