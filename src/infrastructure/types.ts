import type { Breaker, BreakerChildSpec, BreakerOptions, BreakerReconfiguration } from '../breaker/index.js';
import type { Clock } from '../clock/index.js';
import type {
  LimiterChildSpec,
  LimiterReconfiguration,
  MemoryLimiterOptions,
  MemoryRateLimiter,
  RateLimiter,
  RedisLike,
  RedisRateLimiter,
} from '../limiter/index.js';
import type { Pool, PoolChildSpec, PoolOptions, PoolReconfiguration, ThreadPool, ThreadPoolChildSpec, ThreadPoolOptions } from '../pool/index.js';
import type { Supervisor } from '../supervisor/index.js';
import type { Telemetry } from '../telemetry/index.js';

/** Options of one breaker, limiter or pool of a namespace: the component's own, less what the tree gives. */
export type Owned<T> = Omit<T, 'name' | 'clock' | 'telemetry'>;

/** What one namespace (a tenant, a service) holds, each component by name. */
export interface NamespaceConfig {
  breakers?: Record<string, Owned<BreakerOptions>>;
  limiters?: Record<string, Owned<MemoryLimiterOptions>>;
  // Pools hold workers of any type; each pool's own options type its workers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  pools?: Record<string, Owned<PoolOptions<any>>>;
  /** Worker-thread pools for CPU work. */
  threadPools?: Record<string, Owned<ThreadPoolOptions>>;
  /** The namespace supervisor's restart intensity. Default 10 restarts within 10000 ms. */
  intensity?: number;
  period?: number;
}

/** Options of {@link startInfrastructure}. */
export interface InfrastructureOptions {
  /** The root supervisor's id. Default `'infrastructure'`. */
  id?: string;
  /** The namespaces, each under its own supervisor. */
  namespaces: Record<string, NamespaceConfig>;
  /** The root's restart intensity: namespaces that give up are restarted this often. Default 100 within 60000 ms. */
  intensity?: number;
  period?: number;
  /**
   * When given, limiters keep their counts in this Redis (one global limit across instances),
   * answering from an in-memory limiter while Redis is unreachable.
   */
  redis?: RedisLike;
  /** Key prefix of the Redis limiters. Default `'overseer'`. */
  redisPrefix?: string;
  clock?: Clock;
  telemetry?: Telemetry;
}

/** A live change of options: per namespace, per component, the options to change. */
export interface InfrastructurePatch {
  [namespace: string]: {
    breakers?: Record<string, BreakerReconfiguration>;
    limiters?: Record<string, LimiterReconfiguration>;
    pools?: Record<string, PoolReconfiguration>;
  };
}

/** The running infrastructure tree. */
export interface Infrastructure {
  /** The root supervisor: one child supervisor per namespace. */
  readonly supervisor: Supervisor;
  /** The namespaces' names. */
  namespaces(): string[];
  /** A namespace's supervisor (its current run). */
  namespace(name: string): Supervisor;
  breaker(namespace: string, name: string): Breaker;
  limiter(namespace: string, name: string): RateLimiter;
  /**
   * A pool of the namespace. The handle is stable: a pool restarted by its supervisor is a new
   * pool, and the handle always reaches the current one.
   */
  pool<W = unknown>(namespace: string, name: string): Pool<W>;
  /** A thread pool of the namespace, by a stable handle as for `pool`. */
  threadPool<Task = unknown, Result = unknown>(namespace: string, name: string): ThreadPool<Task, Result>;
  /**
   * Changes breaker, limiter and pool options live without losing state (open breakers stay
   * open, counts stay counted, checked-out workers stay out) and without dropping calls in flight.
   * The whole patch is checked before anything is applied (namespaces, sections and components
   * exist, every key is one its component can change live, every value passes the component's
   * own validation): an invalid patch throws a `ConfigError` naming the fault by its path
   * (`patch.billing.pools.db.size`) and changes nothing.
   */
  configure(patch: InfrastructurePatch): void;
  /** Stops the tree (namespaces in reverse order) and the Redis limiters' insurance timers. */
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A breaker of a namespace, with the options it was given (every applied patch included). */
export interface BreakerEntry {
  spec: BreakerChildSpec;
  given: Owned<BreakerOptions>;
}

/** A limiter entry: supervised in memory, or a Redis limiter with its in-memory insurance. */
export interface LimiterEntry {
  spec: LimiterChildSpec;
  redis: RedisRateLimiter | undefined;
  insurance: MemoryRateLimiter | undefined;
  given: Owned<MemoryLimiterOptions>;
}

/** A pool of a namespace: its spec, the stable handle given out, and the options it was given. */
interface PoolEntry {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec: PoolChildSpec<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handle: Pool<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  given: Owned<PoolOptions<any>>;
}

export interface NamespaceEntry {
  breakers: Map<string, BreakerEntry>;
  limiters: Map<string, LimiterEntry>;
  pools: Map<string, PoolEntry>;
  threadPools: Map<string, { spec: ThreadPoolChildSpec; handle: ThreadPool }>;
}
