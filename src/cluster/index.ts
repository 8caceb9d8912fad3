export type { ClusterLease, LeaseLoss, LeaseLossReason } from './cluster-lease.js';
export { LeaseUnavailableError, isLeaseUnavailableError } from './errors.js';
export type { LeaseOptions } from './lease-options.js';
export type { StoreLease } from './store-lease.js';
export { createPostgresLease, type PostgresLeaseOptions, type PostgresQueryable } from './postgres-lease.js';
export { createRedisLease, type RedisLeaseOptions, type LeaseRedis } from './redis-lease.js';
export { singletonChild, type SingletonChildOptions } from './singleton-child.js';
export { singletonMachine, type SingletonStartContext, type SingletonEvent, type SingletonMachineInput, type SingletonContext } from './singleton-machine.js';
