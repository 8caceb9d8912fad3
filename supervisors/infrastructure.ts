// Imports go to each concept's public face, not to src/index.ts, which re-exports this module
// (a cycle through the package entry would leave bindings uninitialised at load time).
import { breakerChild, type Breaker, type BreakerChildSpec, type BreakerOptions, type BreakerReconfiguration } from '../src/breaker/index.js';
import { systemClock, type Clock } from '../src/clock/index.js';
import { ConfigError, OverseerError } from '../src/core/index.js';
import {
  createRateLimiter,
  createRedisRateLimiter,
  limiterChild,
  type LimiterChildSpec,
  type MemoryLimiterOptions,
  type RateLimiter,
  type RedisLike,
} from '../src/limiter/index.js';
import {
  poolChild,
  threadPoolChild,
  type Pool,
  type PoolChildSpec,
  type PoolOptions,
  type PoolReconfiguration,
  type ThreadPool,
  type ThreadPoolChildSpec,
  type ThreadPoolOptions,
} from '../src/pool/index.js';
import { startSupervisor, supervisorChild, supervisorOf, type ChildSpec, type Supervisor } from '../src/supervisor/index.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../src/telemetry/index.js';
import { resolveBreakerOptions } from '../src/breaker/options.js';
import { resolveMemoryLimiterOptions } from '../src/limiter/options.js';
import { resolvePoolOptions } from '../src/pool/options.js';

/** Options of one breaker, limiter or pool of a namespace: the component's own, less what the tree gives. */
type Owned<T> = Omit<T, 'name' | 'clock' | 'telemetry'>;

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
    limiters?: Record<string, Partial<Pick<MemoryLimiterOptions, 'limit' | 'windowMs'>>>;
    pools?: Record<string, PoolReconfiguration>;
  };
}

/** A look-up for a namespace or component the tree does not have. */
export class InfrastructureLookupError extends OverseerError {
  readonly code = 'ERR_NOT_FOUND' as const;

  constructor(what: string) {
    super(`the infrastructure has no ${what}`);
  }
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
   * The whole patch is checked first: an invalid one throws `ConfigError` and changes nothing.
   */
  configure(patch: InfrastructurePatch): void;
  stop(): Promise<void>;
}

/** A limiter entry: supervised in memory, or a Redis limiter with its in-memory insurance. */
interface LimiterEntry {
  spec: LimiterChildSpec;
  redis: RateLimiter | undefined;
  options: Owned<MemoryLimiterOptions>;
}

interface NamespaceEntry {
  breakers: Map<string, BreakerChildSpec>;
  limiters: Map<string, LimiterEntry>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  pools: Map<string, { spec: PoolChildSpec<any>; handle: Pool<any> }>;
  threadPools: Map<string, { spec: ThreadPoolChildSpec; handle: ThreadPool }>;
}

/** The current run of a supervised component, or a lookup error when it is not running. */
function current<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new InfrastructureLookupError(`running ${what}`);
  return value;
}

/** A pool handle that always reaches the current run of a supervised pool. */
function stablePool<W>(spec: PoolChildSpec<W>, name: string): Pool<W> {
  const now = (): Pool<W> => current(spec.pool, `pool '${name}'`);
  return {
    name,
    get actor() {
      return now().actor;
    },
    checkout: (options) => now().checkout(options),
    tryCheckout: () => now().tryCheckout(),
    transaction: (fn, options) => now().transaction(fn, options),
    status: () => now().status(),
    stop: () => now().stop(),
    reconfigure: (patch) => spec.reconfigure(patch),
  };
}

/** A thread-pool handle that always reaches the current run of a supervised thread pool. */
function stableThreadPool<Task, Result>(spec: ThreadPoolChildSpec<Task, Result>, name: string): ThreadPool<Task, Result> {
  const now = (): ThreadPool<Task, Result> => current(spec.pool, `thread pool '${name}'`);
  return {
    name,
    get actor() {
      return now().actor;
    },
    run: (task, options) => now().run(task, options),
    status: () => now().status(),
    stop: () => now().stop(),
  };
}

function entries<T>(record: Record<string, T> | undefined): Array<[string, T]> {
  return Object.entries(record ?? {});
}

/**
 * Starts the ready-made infrastructure tree:
 *
 * ```
 * infrastructure (one_for_one, 100 restarts / 60 s)
 * └── <namespace> (one_for_one, 10 restarts / 10 s), one per namespace
 *     ├── breaker <name> ...
 *     ├── limiter <name> ...
 *     └── pool <name> ...
 * ```
 *
 * Each namespace has its own supervisor, so a restart storm in one namespace exhausts that
 * namespace's intensity and is restarted by the root, never touching another namespace.
 *
 * @example
 * ```ts
 * const infra = await startInfrastructure({ namespaces: {
 *   billing: { breakers: { payments: { resetMs: 10_000 } }, limiters: { api: { limit: 100, windowMs: 1000 } } },
 * } });
 * await infra.breaker('billing', 'payments').call(() => charge(order));
 * ```
 */
export async function startInfrastructure(options: InfrastructureOptions): Promise<Infrastructure> {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', options, 'an object');
  if (typeof options.namespaces !== 'object' || options.namespaces === null) {
    throw new ConfigError('namespaces', options.namespaces, 'an object of namespace configurations');
  }
  const clock = options.clock ?? systemClock;
  const telemetry = options.telemetry ?? sharedTelemetry;
  const registry = new Map<string, NamespaceEntry>();
  const namespaceSpecs: ChildSpec[] = [];

  for (const [namespace, config] of entries(options.namespaces)) {
    const entry: NamespaceEntry = { breakers: new Map(), limiters: new Map(), pools: new Map(), threadPools: new Map() };
    const children: ChildSpec[] = [];
    for (const [name, breakerOptions] of entries(config.breakers)) {
      const spec = breakerChild({ ...breakerOptions, name, clock, telemetry });
      spec.id = `breaker:${name}`;
      entry.breakers.set(name, spec);
      children.push(spec);
    }
    for (const [name, limiterOptions] of entries(config.limiters)) {
      const spec = limiterChild({ ...limiterOptions, name: `${namespace}.${name}`, clock, telemetry });
      spec.id = `limiter:${name}`;
      const redis = options.redis
        ? createRedisRateLimiter({
            ...limiterOptions,
            name: `${namespace}.${name}`,
            redis: options.redis,
            prefix: options.redisPrefix ?? 'overseer',
            telemetry,
            insurance: createRateLimiter({ ...limiterOptions, name: `${namespace}.${name}.insurance`, clock, telemetry }),
          })
        : undefined;
      entry.limiters.set(name, { spec, redis, options: { ...limiterOptions } });
      children.push(spec);
    }
    for (const [name, poolOptions] of entries(config.pools)) {
      const spec = poolChild({ shutdown: 10_000, ...poolOptions, name, clock, telemetry });
      spec.id = `pool:${name}`;
      entry.pools.set(name, { spec, handle: stablePool(spec, name) });
      children.push(spec);
    }
    for (const [name, threadPoolOptions] of entries(config.threadPools)) {
      const spec = threadPoolChild({ shutdown: 10_000, ...threadPoolOptions, name, clock, telemetry });
      spec.id = `threads:${name}`;
      entry.threadPools.set(name, { spec, handle: stableThreadPool(spec, name) });
      children.push(spec);
    }
    registry.set(namespace, entry);
    namespaceSpecs.push(
      supervisorChild(namespace, {
        strategy: 'one_for_one',
        intensity: config.intensity ?? 10,
        period: config.period ?? 10_000,
        children,
      }),
    );
  }

  const supervisor = await startSupervisor(
    { strategy: 'one_for_one', intensity: options.intensity ?? 100, period: options.period ?? 60_000, children: namespaceSpecs },
    { id: options.id ?? 'infrastructure', clock, telemetry },
  );

  const namespaceEntry = (namespace: string): NamespaceEntry => {
    const entry = registry.get(namespace);
    if (!entry) throw new InfrastructureLookupError(`namespace '${namespace}'`);
    return entry;
  };
  const component = <T>(map: Map<string, T>, namespace: string, kind: string, name: string): T => {
    const found = map.get(name);
    if (found === undefined) throw new InfrastructureLookupError(`${kind} '${name}' in namespace '${namespace}'`);
    return found;
  };

  /** Checks a whole patch without changing anything; throws ConfigError on the first fault. */
  const validate = (patch: InfrastructurePatch): void => {
    if (typeof patch !== 'object' || patch === null) throw new ConfigError('patch', patch, 'an object');
    for (const [namespace, changes] of entries(patch)) {
      const entry = registry.get(namespace);
      if (!entry) throw new ConfigError(`patch.${namespace}`, changes, 'a namespace of the tree');
      for (const [name, change] of entries(changes.breakers)) {
        const spec = entry.breakers.get(name);
        if (!spec) throw new ConfigError(`patch.${namespace}.breakers.${name}`, change, 'a breaker of the namespace');
        resolveBreakerOptions({ name, ...change });
      }
      for (const [name, change] of entries(changes.limiters)) {
        const limiter = entry.limiters.get(name);
        if (!limiter) throw new ConfigError(`patch.${namespace}.limiters.${name}`, change, 'a limiter of the namespace');
        resolveMemoryLimiterOptions({ ...limiter.options, ...change, name });
      }
      for (const [name, change] of entries(changes.pools)) {
        const spec = entry.pools.get(name);
        if (!spec) throw new ConfigError(`patch.${namespace}.pools.${name}`, change, 'a pool of the namespace');
        resolvePoolOptions({ ...change, name, worker: { create: () => undefined } });
      }
    }
  };

  return {
    supervisor,
    namespaces: () => [...registry.keys()],
    namespace(namespace) {
      namespaceEntry(namespace);
      const child = supervisor.whichChildren().find((info) => info.id === namespace);
      return current(supervisorOf(child?.ref) as Supervisor | undefined, `supervisor of namespace '${namespace}'`);
    },
    breaker(namespace, name) {
      const spec = component(namespaceEntry(namespace).breakers, namespace, 'breaker', name);
      return current(spec.breaker, `breaker '${name}'`);
    },
    limiter(namespace, name) {
      const entry = component(namespaceEntry(namespace).limiters, namespace, 'limiter', name);
      return entry.redis ?? current(entry.spec.limiter, `limiter '${name}'`);
    },
    pool<W>(namespace: string, name: string): Pool<W> {
      return component(namespaceEntry(namespace).pools, namespace, 'pool', name).handle as Pool<W>;
    },
    threadPool<Task, Result>(namespace: string, name: string): ThreadPool<Task, Result> {
      return component(namespaceEntry(namespace).threadPools, namespace, 'thread pool', name).handle as ThreadPool<Task, Result>;
    },
    configure(patch) {
      validate(patch);
      for (const [namespace, changes] of entries(patch)) {
        const entry = registry.get(namespace)!;
        for (const [name, change] of entries(changes.breakers)) entry.breakers.get(name)!.breaker?.reconfigure(change);
        for (const [name, change] of entries(changes.limiters)) {
          const limiter = entry.limiters.get(name)!;
          Object.assign(limiter.options, change);
          limiter.spec.reconfigure(change);
          (limiter.redis as { reconfigure?: (patch: object) => void } | undefined)?.reconfigure?.(change);
        }
        for (const [name, change] of entries(changes.pools)) entry.pools.get(name)!.spec.reconfigure(change);
      }
    },
    stop: () => supervisor.stop(),
  };
}
