export type { ClusterLease, LeaseLoss, LeaseLossReason } from './cluster-lease.js';
export { LeaseUnavailableError, isLeaseUnavailableError } from './errors.js';
export type { LeaseOptions } from './lease-options.js';
export type { StoreLease } from './store-lease.js';
export { createPostgresLease, type PostgresLeaseOptions, type PostgresQueryable, type PostgresListenClient } from './postgres-lease.js';
export { createRedisLease, type RedisLeaseOptions, type LeaseRedis, type LeaseSubscriber } from './redis-lease.js';
export type { ReleaseNotice } from './release-feed.js';
export { LeaseNoticeEvents } from './lease-events.js';
export { singletonChild, type SingletonChildOptions } from './singleton-child.js';
export { singletonMachine, type SingletonStartContext, type SingletonEvent, type SingletonMachineInput, type SingletonContext } from './singleton-machine.js';
export {
  createBreakerFleet,
  type BreakerFleet,
  type BreakerFleetChange,
  type BreakerFleetStatus,
  type IsolateOptions,
} from './breaker-fleet.js';
export type { BreakerFleetOptions } from './breaker-fleet-options.js';
export type { BreakerFleetRedis, BreakerFleetSubscriber } from './breaker-fleet-redis.js';
export type { BreakerFleetIsolation } from './breaker-fleet-messages.js';
export type { BreakerFleetEntry } from './breaker-view.js';
export type { RestoreCause } from './breaker-isolations.js';
export { BreakerFleetUnavailableError, isBreakerFleetUnavailableError, type BreakerFleetOperation } from './breaker-fleet-errors.js';
export { BreakerFleetEvents } from './breaker-fleet-events.js';
export { breakerFleetMetrics } from './breaker-fleet-metrics.js';
