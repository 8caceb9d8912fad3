/**
 * `overseer/threads`: CPU work on worker threads (piscina). piscina is loaded when the first
 * thread pool is created, not when this module is imported. Also exported from the root.
 *
 * Besides its own names it exports those its signatures use (the base error class, the clock,
 * telemetry and child-spec types), the same as the root's, so that this entry is complete.
 */
export {
  createThreadPool,
  threadPoolChild,
  WorkerCrashedError,
  WorkerStartError,
  UncloneableValueError,
  TaskAbortedError,
  isWorkerCrashedError,
  isWorkerStartError,
  isUncloneableValueError,
  isTaskAbortedError,
  type ThreadPool,
  type ThreadPoolOptions,
  type ThreadPoolStatus,
  type ThreadRunOptions,
  type ThreadPoolChildSpec,
  type ThreadTaskHandler,
  type ThreadCrashReason,
  type ThreadCrash,
  type ThreadStartFailure,
  type UncloneablePart,
} from './pool/index.js';

// ---------------------------------------------------------------- shared with the root, used in the signatures above
export { OverseerError } from './core/index.js';
export { Telemetry, type TelemetryEvent, type TelemetryOptions } from './telemetry/index.js';
export type { Clock } from './clock/index.js';
export type { ChildSpec, StartContext, Restart, Shutdown, Backoff } from './supervisor/index.js';
