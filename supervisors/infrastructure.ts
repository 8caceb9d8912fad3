// Imports go to each concept's public face, not to src/index.ts, which re-exports this module
// (a cycle through the package entry would leave bindings uninitialised at load time).
import { breakerChild, type Breaker, type BreakerChildSpec, type BreakerOptions, type BreakerReconfiguration } from '../src/breaker/index.js';
import { systemClock, type Clock } from '../src/clock/index.js';
import { ConfigError, OverseerError, attempt, describeValue } from '../src/core/index.js';
import { record } from '../src/core/validate.js';
import {
  createRateLimiter,
  createRedisRateLimiter,
  limiterChild,
  type LimiterChildSpec,
  type LimiterReconfiguration,
  type MemoryLimiterOptions,
  type MemoryRateLimiter,
  type RateLimiter,
  type RedisLike,
  type RedisRateLimiter,
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
import { reconfigured, resolveMemoryLimiterOptions } from '../src/limiter/options.js';
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
    limiters?: Record<string, LimiterReconfiguration>;
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
   * The whole patch is checked before anything is applied (namespaces, sections and components
   * exist, every key is one its component can change live, every value passes the component's
   * own validation): an invalid patch throws a `ConfigError` naming the fault by its path
   * (`patch.billing.pools.db.size`) and changes nothing.
   */
  configure(patch: InfrastructurePatch): void;
  stop(): Promise<void>;
}

/** A breaker of a namespace, with the options it was given (every applied patch included). */
interface BreakerEntry {
  spec: BreakerChildSpec;
  given: Owned<BreakerOptions>;
}

/** A limiter entry: supervised in memory, or a Redis limiter with its in-memory insurance. */
interface LimiterEntry {
  spec: LimiterChildSpec;
  redis: RedisRateLimiter | undefined;
  insurance: MemoryRateLimiter | undefined;
  given: Owned<MemoryLimiterOptions>;
}

interface PoolEntry {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec: PoolChildSpec<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handle: Pool<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  given: Owned<PoolOptions<any>>;
}

interface NamespaceEntry {
  breakers: Map<string, BreakerEntry>;
  limiters: Map<string, LimiterEntry>;
  pools: Map<string, PoolEntry>;
  threadPools: Map<string, { spec: ThreadPoolChildSpec; handle: ThreadPool }>;
}

/** What a namespace's configuration may hold. */
const namespaceKeys: ReadonlySet<string> = new Set(['breakers', 'limiters', 'pools', 'threadPools', 'intensity', 'period']);

/**
 * The options each kind of component can change live, as its `reconfigure` accepts them. Typed as
 * a record over the reconfiguration type, so the compiler keeps each list complete and exact.
 */
const breakerLiveKeys: Readonly<Record<keyof BreakerReconfiguration, true>> = {
  tolerance: true,
  failureRate: true,
  resetMs: true,
  halfOpenProbes: true,
  callTimeoutMs: true,
  isFailure: true,
};
const limiterLiveKeys: Readonly<Record<keyof LimiterReconfiguration, true>> = { limit: true, windowMs: true, telemetryKeys: true };
const poolLiveKeys: Readonly<Record<keyof PoolReconfiguration, true>> = {
  size: true,
  maxOverflow: true,
  strategy: true,
  checkoutTimeoutMs: true,
  retryBackoffMs: true,
};

/** A part of a component's name: as it is when it holds no `.` or `"`, else quoted as a JSON string. */
function namePart(part: string): string {
  return part.includes('.') || part.includes('"') ? JSON.stringify(part) : part;
}

/**
 * The name a component reports in errors and telemetry, and a Redis limiter keys its data by:
 * `<namespace>.<name>`, each part quoted when it holds a `.` or a `"` (`"billing.eu".api`,
 * `billing."eu.api"`), so that no two (namespace, name) pairs share a name, while plain names stay
 * as they read. Unambiguous: a part is either bare (no `.`, no `"`) or a JSON string, which ends
 * at its first unescaped `"`, so a name splits back into its parts one way only. An insurance
 * limiter's `<name>.insurance` has three parts, so it never equals a component's name either.
 */
export function componentName(namespace: string, name: string): string {
  return `${namePart(namespace)}.${namePart(name)}`;
}

/**
 * Runs a validation, naming the option it rejects by its full path: a `ConfigError` for `resetMs`
 * thrown while checking `namespaces.billing.breakers.payments` becomes one for
 * `namespaces.billing.breakers.payments.resetMs`, with the same value and expectation.
 */
function within<T>(path: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const head = `Invalid option ${error.option}: expected `;
    const tail = `, got ${describeValue(error.value)}`;
    if (!error.message.startsWith(head) || !error.message.endsWith(tail)) throw error;
    throw new ConfigError(`${path}.${error.option}`, error.value, error.message.slice(head.length, error.message.length - tail.length));
  }
}

/** The entries of an optional section: absent is empty, anything but an object is a ConfigError naming it. */
function sectionEntries(path: string, value: unknown): Array<[string, unknown]> {
  return value === undefined ? [] : Object.entries(record(path, value));
}

/** Rejects any key of `change` that its component cannot change live. */
function checkLiveKeys(path: string, change: Record<string, unknown>, live: Readonly<Record<string, true>>): void {
  for (const key of Object.keys(change)) {
    if (!Object.hasOwn(live, key)) throw new ConfigError(`${path}.${key}`, change[key], `one of ${Object.keys(live).join(', ')} (the options that can change live)`);
  }
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
    checkout: (options) => attempt(() => now().checkout(options)),
    tryCheckout: () => now().tryCheckout(),
    transaction: (fn, options) => attempt(() => now().transaction(fn, options)),
    status: () => now().status(),
    stop: () => attempt(() => now().stop()),
    [Symbol.asyncDispose]: () => attempt(() => now().stop()),
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
    run: (task, options) => attempt(() => now().run(task, options)),
    status: () => now().status(),
    stop: () => attempt(() => now().stop()),
    [Symbol.asyncDispose]: () => attempt(() => now().stop()),
  };
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
 * namespace's intensity and is restarted by the root, never touching another namespace. Every
 * breaker, limiter, pool and thread pool is named `<namespace>.<name>` in its errors and
 * telemetry (a part holding a `.` or `"` is quoted: `"billing.eu".api`), so two components never
 * share a name, metrics or Redis keys; look-ups and child ids use the short name within the namespace. Bad options reject with a `ConfigError`
 * naming the option by its path (`namespaces.billing.breakers.payments.resetMs`).
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
  const fields = record('options', options);
  const namespaces = record('namespaces', fields.namespaces);
  const clock = options.clock ?? systemClock;
  const telemetry = options.telemetry ?? sharedTelemetry;
  const registry = new Map<string, NamespaceEntry>();
  const namespaceSpecs: ChildSpec[] = [];

  for (const [namespace, given] of Object.entries(namespaces)) {
    const path = `namespaces.${namespace}`;
    const config = record(path, given) as NamespaceConfig;
    for (const key of Object.keys(config)) {
      if (!namespaceKeys.has(key)) throw new ConfigError(`${path}.${key}`, (config as Record<string, unknown>)[key], `one of ${[...namespaceKeys].join(', ')}`);
    }
    const entry: NamespaceEntry = { breakers: new Map(), limiters: new Map(), pools: new Map(), threadPools: new Map() };
    const children: ChildSpec[] = [];
    for (const [name, value] of sectionEntries(`${path}.breakers`, config.breakers)) {
      const componentPath = `${path}.breakers.${name}`;
      const breakerOptions = record(componentPath, value) as Owned<BreakerOptions>;
      const spec = within(componentPath, () => breakerChild({ ...breakerOptions, name: componentName(namespace, name), clock, telemetry }));
      spec.id = `breaker:${name}`;
      entry.breakers.set(name, { spec, given: { ...breakerOptions } });
      children.push(spec);
    }
    for (const [name, value] of sectionEntries(`${path}.limiters`, config.limiters)) {
      const componentPath = `${path}.limiters.${name}`;
      const limiterOptions = record(componentPath, value) as Owned<MemoryLimiterOptions>;
      const limiterName = componentName(namespace, name);
      const spec = within(componentPath, () => limiterChild({ ...limiterOptions, name: limiterName, clock, telemetry }));
      spec.id = `limiter:${name}`;
      const insurance = options.redis
        ? within(componentPath, () => createRateLimiter({ ...limiterOptions, name: `${limiterName}.insurance`, clock, telemetry }))
        : undefined;
      const redis = options.redis
        ? within(componentPath, () =>
            createRedisRateLimiter({
              ...limiterOptions,
              name: limiterName,
              redis: options.redis!,
              prefix: options.redisPrefix ?? 'overseer',
              telemetry,
              insurance,
            }),
          )
        : undefined;
      entry.limiters.set(name, { spec, redis, insurance, given: { ...limiterOptions } });
      children.push(spec);
    }
    for (const [name, value] of sectionEntries(`${path}.pools`, config.pools)) {
      const componentPath = `${path}.pools.${name}`;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const poolOptions = record(componentPath, value) as Owned<PoolOptions<any>>;
      const poolName = componentName(namespace, name);
      const spec = within(componentPath, () => poolChild({ shutdown: 10_000, ...poolOptions, name: poolName, clock, telemetry }));
      spec.id = `pool:${name}`;
      entry.pools.set(name, { spec, handle: stablePool(spec, poolName), given: { ...poolOptions } });
      children.push(spec);
    }
    for (const [name, value] of sectionEntries(`${path}.threadPools`, config.threadPools)) {
      const componentPath = `${path}.threadPools.${name}`;
      const threadPoolOptions = record(componentPath, value) as Owned<ThreadPoolOptions>;
      const poolName = componentName(namespace, name);
      const spec = within(componentPath, () => threadPoolChild({ shutdown: 10_000, ...threadPoolOptions, name: poolName, clock, telemetry }));
      spec.id = `threads:${name}`;
      entry.threadPools.set(name, { spec, handle: stableThreadPool(spec, poolName) });
      children.push(spec);
    }
    registry.set(namespace, entry);
    namespaceSpecs.push(
      within(path, () =>
        supervisorChild(namespace, {
          strategy: 'one_for_one',
          intensity: config.intensity ?? 10,
          period: config.period ?? 10_000,
          children,
        }),
      ),
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

  /**
   * Checks a whole patch and returns the steps that apply it, changing nothing: every namespace,
   * section and component must exist, every key must be one its component can change live, and
   * every component's options with the change must pass that component's own validation. The
   * first fault throws a ConfigError naming it by its path (`patch.billing.pools.db.size`).
   */
  const plan = (patch: unknown): Array<() => void> => {
    // Each change is copied once, so what is checked is exactly what is applied (getters included).
    const steps: Array<() => void> = [];
    for (const [namespace, changes] of Object.entries(record('patch', patch))) {
      const path = `patch.${namespace}`;
      const entry = registry.get(namespace);
      if (!entry) throw new ConfigError(path, changes, 'a namespace of the tree');
      for (const [section, components] of Object.entries(record(path, changes))) {
        const sectionPath = `${path}.${section}`;
        const named = sectionEntries(sectionPath, components);
        if (section === 'breakers') {
          for (const [name, value] of named) {
            const componentPath = `${sectionPath}.${name}`;
            const breaker = entry.breakers.get(name);
            if (!breaker) throw new ConfigError(componentPath, value, 'a breaker of the namespace');
            const change = { ...record(componentPath, value) } as BreakerReconfiguration;
            checkLiveKeys(componentPath, change, breakerLiveKeys);
            within(componentPath, () => resolveBreakerOptions({ ...breaker.given, ...change, name: componentName(namespace, name) }));
            const target = current(breaker.spec.breaker, `breaker '${name}'`);
            steps.push(() => {
              target.reconfigure(change);
              Object.assign(breaker.given, change);
            });
          }
        } else if (section === 'limiters') {
          for (const [name, value] of named) {
            const componentPath = `${sectionPath}.${name}`;
            const limiter = entry.limiters.get(name);
            if (!limiter) throw new ConfigError(componentPath, value, 'a limiter of the namespace');
            const change = { ...record(componentPath, value) } as LimiterReconfiguration;
            checkLiveKeys(componentPath, change, limiterLiveKeys);
            within(componentPath, () => reconfigured(resolveMemoryLimiterOptions({ ...limiter.given, name: componentName(namespace, name) }), change));
            steps.push(() => {
              limiter.spec.reconfigure(change);
              limiter.redis?.reconfigure(change);
              limiter.insurance?.reconfigure(change);
              Object.assign(limiter.given, change);
            });
          }
        } else if (section === 'pools') {
          for (const [name, value] of named) {
            const componentPath = `${sectionPath}.${name}`;
            const pool = entry.pools.get(name);
            if (!pool) throw new ConfigError(componentPath, value, 'a pool of the namespace');
            const change = { ...record(componentPath, value) } as PoolReconfiguration;
            checkLiveKeys(componentPath, change, poolLiveKeys);
            within(componentPath, () => resolvePoolOptions({ ...pool.given, ...change, name: componentName(namespace, name) }));
            steps.push(() => {
              pool.spec.reconfigure(change);
              Object.assign(pool.given, change);
            });
          }
        } else {
          throw new ConfigError(sectionPath, components, "one of 'breakers', 'limiters', 'pools' (the sections that can change live)");
        }
      }
    }
    return steps;
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
      const entry = component(namespaceEntry(namespace).breakers, namespace, 'breaker', name);
      return current(entry.spec.breaker, `breaker '${name}'`);
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
      // Plan first, then apply: a patch that fails any check changes nothing.
      for (const step of plan(patch)) step();
    },
    stop: () =>
      supervisor.stop().finally(() => {
        // The insurance limiters live outside the tree: cancel their timers with it.
        for (const entry of registry.values()) for (const limiter of entry.limiters.values()) limiter.insurance?.stop();
      }),
  };
}
