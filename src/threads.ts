/**
 * `overseer/threads`: CPU work on worker threads (piscina). piscina is loaded when the first
 * thread pool is created, not when this module is imported. Also exported from the root.
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
  type UncloneablePart,
} from './pool/index.js';
