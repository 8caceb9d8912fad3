export { createPool, ResourcePool, type Pool, type Lease, type PoolStatus, type CheckoutOptions, type PoolReconfiguration } from './resource-pool.js';
export { poolChild, type PoolChildSpec } from './pool-child.js';
export type { PoolOptions, WorkerFactory, WorkerContext } from './options.js';
export {
  PoolFullError,
  PoolTimeoutError,
  PoolStoppedError,
  PoolAbortedError,
  isPoolFullError,
  isPoolTimeoutError,
  isPoolStoppedError,
  isPoolAbortedError,
} from './errors.js';
export type { PoolSnapshot } from './pool-actor.js';
