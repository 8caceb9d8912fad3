/**
 * overseer: an OTP-style supervision runtime for Node.js back ends.
 *
 * The package root. It exports by name what ../shared/API.md names plus deliberate additions,
 * never a concept's internals; its import loads neither piscina, undici, a database client nor
 * an OpenTelemetry or prom-client package (thread and HTTP pools load theirs on first use) and
 * changes no global. Optional parts also have subpaths of their own: `overseer/threads`,
 * `overseer/http`, `overseer/opentelemetry`, `overseer/prom-client`.
 */

// ---------------------------------------------------------------- errors
export {
  OverseerError,
  ConfigError,
  InvalidArgumentError,
  isOverseerError,
  isConfigError,
  isInvalidArgumentError,
} from './core/index.js';

// ---------------------------------------------------------------- time
export { systemClock, createTestClock, maxTimerDelayMs, type Clock, type TestClock } from './clock/index.js';

// ---------------------------------------------------------------- telemetry and metrics
export {
  Telemetry,
  createTelemetry,
  telemetry,
  TelemetryEvents,
  type TelemetryEvent,
  type TelemetryEventName,
  type TelemetryOptions,
} from './telemetry/index.js';
export {
  counter,
  sum,
  lastValue,
  summary,
  distribution,
  collectMetrics,
  startMetrics,
  toPrometheus,
  prometheusName,
  overseerMetrics,
  leaseMetrics,
  durationBucketsMs,
  type Metric,
  type MetricOptions,
  type MetricDefinition,
  type MetricType,
  type MetricSnapshot,
  type MetricReading,
  type SeriesSnapshot,
  type ScalarValue,
  type SummaryValue,
  type DistributionValue,
  type SummaryOptions,
  type DistributionOptions,
  type MetricsReading,
  type MetricsRegistry,
} from './telemetry/metrics/index.js';
export {
  bridgeToOpenTelemetry,
  type OpenTelemetryBridge,
  type OpenTelemetryBridgeOptions,
  type OpenTelemetryMeter,
} from './opentelemetry.js';
export { bridgeToPromClient, type PromClientBridge, type PromClientBridgeOptions, type PromClientRegistry } from './prom-client.js';

// ---------------------------------------------------------------- supervision
export {
  startSupervisor,
  supervisorChild,
  startDynamicSupervisor,
  supervisorOf,
  SupervisorError,
  isSupervisorError,
  SHUTDOWN_EVENT,
  type Strategy,
  type Restart,
  type Shutdown,
  type ExitReason,
  type StartContext,
  type ChildSpec,
  type Backoff,
  type SupervisorSpec,
  type ChildInfo,
  type ChildCounts,
  type SupervisorOptions,
  type Supervisor,
  type DynamicChildSpec,
  type DynamicSupervisor,
  type DynamicSupervisorOptions,
  type SupervisorErrorCode,
  type ShutdownEvent,
  type SupervisorSnapshot,
  type ComponentSnapshot,
} from './supervisor/index.js';

// ---------------------------------------------------------------- circuit breakers
export {
  createBreaker,
  breakerChild,
  breakerMachine,
  BreakerOpenError,
  BreakerTimeoutError,
  BreakerArgumentError,
  isBreakerOpenError,
  isBreakerTimeoutError,
  isBreakerArgumentError,
  type Breaker,
  type BreakerOptions,
  type BreakerState,
  type BreakerStats,
  type BreakerReconfiguration,
  type BreakerChildSpec,
  type CallOptions,
  type BreakerContext,
  type BreakerEvent,
  type BreakerMachineInput,
  type BreakerIsolation,
} from './breaker/index.js';

// ---------------------------------------------------------------- rate limiters
export {
  createRateLimiter,
  createRedisRateLimiter,
  limiterChild,
  LimiterUnavailableError,
  isLimiterUnavailableError,
  type Algorithm,
  type Decision,
  type DenialReason,
  type LimiterOptions,
  type MemoryLimiterOptions,
  type LimiterReconfiguration,
  type RateLimiter,
  type MemoryRateLimiter,
  type RedisRateLimiter,
  type RedisLimiterOptions,
  type RedisLike,
  type Reconfigurable,
  type LimiterChildSpec,
} from './limiter/index.js';

// ---------------------------------------------------------------- pools
export {
  createPool,
  poolChild,
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
  type Pool,
  type Lease,
  type PoolStatus,
  type PoolOptions,
  type PoolReconfiguration,
  type PoolChildSpec,
  type PoolSnapshot,
  type CheckoutOptions,
  type WorkerFactory,
  type WorkerContext,
} from './pool/index.js';
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
} from './threads.js';
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
} from './http.js';

// ---------------------------------------------------------------- the protection chain
export {
  protect,
  stageOf,
  isRefusal,
  RateLimitedError,
  CallAbortedError,
  isRateLimitedError,
  isCallAbortedError,
  type ProtectOptions,
  type ProtectCall,
  type ProtectedFunction,
  type ProtectOutcome,
  type ProtectionStage,
  type RefusingStage,
} from './protect/index.js';

// ---------------------------------------------------------------- the infrastructure tree
export {
  startInfrastructure,
  InfrastructureLookupError,
  isInfrastructureLookupError,
  type Infrastructure,
  type InfrastructureOptions,
  type InfrastructurePatch,
  type NamespaceConfig,
} from './infrastructure/index.js';

// ---------------------------------------------------------------- across instances
export {
  createPostgresLease,
  createRedisLease,
  singletonChild,
  singletonMachine,
  LeaseUnavailableError,
  isLeaseUnavailableError,
  type ClusterLease,
  type LeaseLoss,
  type LeaseLossReason,
  type LeaseOptions,
  type StoreLease,
  type PostgresLeaseOptions,
  type PostgresQueryable,
  type RedisLeaseOptions,
  type LeaseRedis,
  type SingletonChildOptions,
  type SingletonStartContext,
  type SingletonEvent,
  type SingletonMachineInput,
  type SingletonContext,
  LeaseNoticeEvents,
  type ReleaseNotice,
  type LeaseSubscriber,
  type PostgresListenClient,
  createBreakerFleet,
  breakerFleetMetrics,
  BreakerFleetUnavailableError,
  isBreakerFleetUnavailableError,
  BreakerFleetEvents,
  type BreakerFleet,
  type BreakerFleetChange,
  type BreakerFleetStatus,
  type BreakerFleetOptions,
  type BreakerFleetRedis,
  type BreakerFleetSubscriber,
  type BreakerFleetIsolation,
  type BreakerFleetEntry,
  type BreakerFleetOperation,
  type IsolateOptions,
  type RestoreCause,
} from './cluster/index.js';
