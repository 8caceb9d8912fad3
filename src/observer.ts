/**
 * `overseer/observer`: a live page of the supervision trees, breakers, pools, limiters and leases
 * of a running process, served by an HTTP handler (`createObserver`). Not exported from the root:
 * import it from this subpath.
 *
 * Besides its own names it exports the types of the components it observes, as its options and
 * views use them (the same as the root's), so that this entry is complete.
 */
export {
  createObserver,
  type Observer,
  type ObserverOptions,
  type ObservedPool,
  type ObserverSnapshot,
  type ObserverDelta,
  type SupervisorView,
  type ChildView,
  type ChildStatus,
  type ChildCountsView,
  type PageView,
  type ExitView,
  type BreakerView,
  type PoolView,
  type ThreadPoolView,
  type LimiterView,
  type LeaseView,
  type EventView,
} from './observer/index.js';

// ---------------------------------------------------------------- shared with the root, used in the signatures above
export { Telemetry, type TelemetryEvent, type TelemetryOptions } from './telemetry/index.js';
export type { Clock } from './clock/index.js';
export type {
  Supervisor,
  DynamicSupervisor,
  DynamicChildSpec,
  ChildSpec,
  ChildInfo,
  ChildCounts,
  StartContext,
  Strategy,
  Restart,
  Shutdown,
  Backoff,
  ExitReason,
} from './supervisor/index.js';
export type { Breaker, BreakerOptions, BreakerReconfiguration, BreakerState, BreakerStats, CallOptions } from './breaker/index.js';
export type { RateLimiter, LimiterOptions, LimiterReconfiguration, Algorithm, Decision, DenialReason } from './limiter/index.js';
export type {
  Pool,
  PoolOptions,
  PoolStatus,
  PoolReconfiguration,
  Lease,
  CheckoutOptions,
  WorkerFactory,
  WorkerContext,
  ThreadPool,
  ThreadPoolStatus,
  ThreadRunOptions,
} from './pool/index.js';
export type { Infrastructure, InfrastructurePatch } from './infrastructure/index.js';
export type { ClusterLease, LeaseLoss, LeaseLossReason, ReleaseNotice } from './cluster/index.js';
