import { breakerChild, type BreakerOptions, type BreakerReconfiguration } from '../breaker/index.js';
import { resolveBreakerOptions } from '../breaker/options.js';
import { systemClock, type Clock } from '../clock/index.js';
import { ConfigError, InvalidArgumentError } from '../core/index.js';
import { clockOption, record, telemetryOption } from '../core/validate.js';
import {
  createRateLimiter,
  createRedisRateLimiter,
  limiterChild,
  type LimiterReconfiguration,
  type MemoryLimiterOptions,
} from '../limiter/index.js';
import { reconfigured, resolveMemoryLimiterOptions } from '../limiter/options.js';
import { poolChild, threadPoolChild, type Pool, type PoolOptions, type PoolReconfiguration, type ThreadPool, type ThreadPoolOptions } from '../pool/index.js';
import { resolvePoolOptions } from '../pool/options.js';
import { startSupervisor, supervisorChild, supervisorOf, type ChildSpec, type Supervisor } from '../supervisor/index.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';
import { current, InfrastructureLookupError } from './errors.js';
import { componentName } from './names.js';
import { breakerLiveKeys, checkLiveKeys, limiterLiveKeys, namespaceKeys, poolLiveKeys, sectionEntries, within } from './options.js';
import { stablePool, stableThreadPool } from './stable-handles.js';
import type { Infrastructure, InfrastructureOptions, NamespaceConfig, NamespaceEntry, Owned } from './types.js';

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
  const clock = clockOption<Clock>('clock', fields.clock, systemClock);
  const telemetry = telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry);
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
      // Read once: the component starts with, and later patches are checked against, the same values (getters included).
      const breakerOptions = { ...record(componentPath, value) } as Owned<BreakerOptions>;
      const spec = within(componentPath, () => breakerChild({ ...breakerOptions, name: componentName(namespace, name), clock, telemetry }));
      spec.id = `breaker:${name}`;
      // Stryker disable next-line ObjectLiteral: `given` only seeds the patch check; each breaker option is checked on its own (no rule relates two) and these values passed at start, so they never change its outcome
      entry.breakers.set(name, { spec, given: { ...breakerOptions } });
      children.push(spec);
    }
    for (const [name, value] of sectionEntries(`${path}.limiters`, config.limiters)) {
      const componentPath = `${path}.limiters.${name}`;
      const limiterOptions = { ...record(componentPath, value) } as Owned<MemoryLimiterOptions>;
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
      const poolOptions = { ...record(componentPath, value) } as Owned<PoolOptions<any>>;
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

  /** A look-up's argument: a name, or an InvalidArgumentError naming the argument (`breaker.namespace`). */
  const lookupName = (argument: string, value: unknown): string => {
    if (typeof value !== 'string') throw new InvalidArgumentError(argument, value, 'a name (a string)');
    return value;
  };
  const namespaceEntry = (method: string, namespace: string): NamespaceEntry => {
    const entry = registry.get(lookupName(`${method}.${method === 'namespace' ? 'name' : 'namespace'}`, namespace));
    if (!entry) throw new InfrastructureLookupError(`namespace '${namespace}'`);
    return entry;
  };
  const component = <T>(method: string, map: Map<string, T>, namespace: string, kind: string, name: string): T => {
    const found = map.get(lookupName(`${method}.name`, name));
    if (found === undefined) throw new InfrastructureLookupError(`${kind} '${name}' in namespace '${namespace}'`);
    return found;
  };

  /**
   * Checks a whole patch and returns the steps that apply it, changing nothing: every namespace,
   * section and component must exist, every key must be one its component can change live, and
   * every component's options with the change must pass that component's own validation. The
   * first fault throws a ConfigError naming it by its path (`patch.billing.pools.db.size`).
   * Each component is checked with the tree's name, clock and telemetry, as it was started: options
   * of its own for these were overridden at start and must not fail a later patch.
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
            within(componentPath, () => resolveBreakerOptions({ ...breaker.given, ...change, name: componentName(namespace, name), clock, telemetry }));
            // Stryker disable next-line StringLiteral: unreachable: the breaker exists from the child's first start, which startInfrastructure awaits, and is never cleared, so this message is never built
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
            within(componentPath, () => reconfigured(resolveMemoryLimiterOptions({ ...limiter.given, name: componentName(namespace, name), clock, telemetry }), change));
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
            within(componentPath, () => resolvePoolOptions({ ...pool.given, ...change, name: componentName(namespace, name), clock, telemetry }));
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

  const stop = (): Promise<void> =>
    supervisor.stop().finally(() => {
      // The insurance limiters live outside the tree: cancel their timers with it.
      for (const entry of registry.values()) for (const limiter of entry.limiters.values()) limiter.insurance?.stop();
    });

  return {
    supervisor,
    namespaces: () => [...registry.keys()],
    namespace(namespace) {
      namespaceEntry('namespace', namespace);
      const child = supervisor.whichChildren().find((info) => info.id === namespace);
      return current(supervisorOf(child?.ref) as Supervisor | undefined, `supervisor of namespace '${namespace}'`);
    },
    breaker(namespace, name) {
      const entry = component('breaker', namespaceEntry('breaker', namespace).breakers, namespace, 'breaker', name);
      // Stryker disable next-line StringLiteral: unreachable: the breaker exists from the child's first start, which startInfrastructure awaits, and is never cleared, so this message is never built
      return current(entry.spec.breaker, `breaker '${name}'`);
    },
    limiter(namespace, name) {
      const entry = component('limiter', namespaceEntry('limiter', namespace).limiters, namespace, 'limiter', name);
      // Stryker disable next-line StringLiteral: unreachable: the limiter exists from the child's first start, which startInfrastructure awaits, and is never cleared, so this message is never built
      return entry.redis ?? current(entry.spec.limiter, `limiter '${name}'`);
    },
    pool<W>(namespace: string, name: string): Pool<W> {
      return component('pool', namespaceEntry('pool', namespace).pools, namespace, 'pool', name).handle as Pool<W>;
    },
    threadPool<Task, Result>(namespace: string, name: string): ThreadPool<Task, Result> {
      return component('threadPool', namespaceEntry('threadPool', namespace).threadPools, namespace, 'thread pool', name).handle as ThreadPool<Task, Result>;
    },
    configure(patch) {
      // Plan first, then apply: a patch that fails any check changes nothing.
      for (const step of plan(patch)) step();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
