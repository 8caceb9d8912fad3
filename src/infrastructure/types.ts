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

/**
 * What one namespace (a tenant, a service) holds, each component by its short name. Each
 * component takes its own options less `name`, `clock` and `telemetry`, which the tree gives: it
 * is named `<namespace>.<name>` and runs on the tree's clock and telemetry.
 */
export interface NamespaceConfig {
  /** Circuit breakers, by name: each one's {@link BreakerOptions}. Default none. */
  breakers?: Record<string, Omit<BreakerOptions, 'name' | 'clock' | 'telemetry'>>;
  /**
   * Rate limiters, by name: each one's {@link MemoryLimiterOptions}; in Redis when the tree has
   * `redis` (with the in-memory limiter as insurance). Default none.
   */
  limiters?: Record<string, Omit<MemoryLimiterOptions, 'name' | 'clock' | 'telemetry'>>;
  /** Worker pools (connections, clients), by name: each one's {@link PoolOptions}; their default `shutdown` is 10000 ms. Default none. */
  // Pools hold workers of any type; each pool's own options type its workers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  pools?: Record<string, Omit<PoolOptions<any>, 'name' | 'clock' | 'telemetry'>>;
  /** Worker-thread pools for CPU work, by name: each one's {@link ThreadPoolOptions}; their default `shutdown` is 10000 ms. Default none. */
  threadPools?: Record<string, Omit<ThreadPoolOptions, 'name' | 'clock' | 'telemetry'>>;
  /** The namespace supervisor's restart intensity: restarts allowed within `period`. Default 10. */
  intensity?: number;
  /** The window of the namespace's restart intensity, in ms. Default 10000. */
  period?: number;
}

/** Options of {@link startInfrastructure}. */
export interface InfrastructureOptions {
  /** The root supervisor's id. Default `'infrastructure'`. */
  id?: string;
  /** The namespaces, each under its own supervisor. */
  namespaces: Record<string, NamespaceConfig>;
  /** The root's restart intensity: namespaces that give up are restarted this often within `period`. Default 100. */
  intensity?: number;
  /** The window of the root's restart intensity, in ms. Default 60000. */
  period?: number;
  /**
   * When given, limiters keep their counts in this Redis (one global limit across instances),
   * answering from an in-memory limiter while Redis is unreachable. Default none: each instance
   * counts in its own memory.
   */
  redis?: RedisLike;
  /** Key prefix of the Redis limiters. Default `'overseer'`. */
  redisPrefix?: string;
  /** The clock of every supervisor and component of the tree; a test clock in specs. Default `systemClock`. */
  clock?: Clock;
  /** Where every supervisor and component of the tree reports. Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/** A live change of options: per namespace, per component, the options to change. */
export interface InfrastructurePatch {
  /** The changes to one namespace's components, section by section, component by short name. */
  [namespace: string]: {
    /** Changes of breakers (see {@link BreakerReconfiguration}). */
    breakers?: Record<string, BreakerReconfiguration>;
    /** Changes of limiters (see {@link LimiterReconfiguration}). */
    limiters?: Record<string, LimiterReconfiguration>;
    /** Changes of pools (see {@link PoolReconfiguration}). */
    pools?: Record<string, PoolReconfiguration>;
  };
}

/**
 * The running infrastructure tree. A look-up (`namespace`, `breaker`, `limiter`, `pool`,
 * `threadPool`) throws an `InfrastructureLookupError` for a name the tree does not have (or a
 * component not running now), an `InvalidArgumentError` for a name that is not a string.
 */
export interface Infrastructure {
  /** The root supervisor: one child supervisor per namespace. */
  readonly supervisor: Supervisor;
  /** The namespaces' names. */
  namespaces(): string[];
  /** A namespace's supervisor (its current run). */
  namespace(name: string): Supervisor;
  /** A breaker of the namespace, by its short name (the one its section gave). */
  breaker(namespace: string, name: string): Breaker;
  /** A rate limiter of the namespace, by its short name: the Redis limiter when the tree has `redis`, else the in-memory one. */
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
