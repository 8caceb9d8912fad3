import type { Breaker, BreakerContext } from '../breaker/index.js';
import type { Infrastructure } from '../infrastructure/index.js';
import type { ResolvedObserverOptions } from './options.js';
import type { RecentCounts } from './recent-counts.js';
import type { BreakerView, LeaseView, LimiterView, PoolView, ThreadPoolView } from './views.js';

/** The kinds of component a namespace of the infrastructure tree runs, by their child-id prefix. */
const KINDS = { 'breaker:': 'breaker', 'limiter:': 'limiter', 'pool:': 'pool', 'threads:': 'threads' } as const;
type Kind = (typeof KINDS)[keyof typeof KINDS];

/** A component of a namespace: its kind, namespace and name within the namespace. */
interface Located {
  kind: Kind;
  namespace: string;
  local: string;
}

/** Every view the observer shows of the components other than supervisors. */
export interface ComponentViews {
  breakers: BreakerView[];
  pools: PoolView[];
  threadPools: ThreadPoolView[];
  limiters: LimiterView[];
  leases: LeaseView[];
}

/** Runs `read`; undefined when it throws (a supervised component not running now). */
function tryRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * The breaker, limiter, pool and thread-pool children of an infrastructure tree's namespaces,
 * found from the namespace supervisors' `whichChildren()` (child ids `breaker:<name>`,
 * `limiter:<name>`, `pool:<name>`, `threads:<name>`). While a namespace is not running its last
 * known components are listed, so they show as unavailable instead of vanishing; their names
 * (`<namespace>.<name>`, as their telemetry says) are remembered from the last time each ran.
 */
export class InfrastructureCatalog {
  private readonly known = new Map<string, Located[]>();
  private readonly names = new Map<string, string>();

  constructor(private readonly infrastructure: Infrastructure) {}

  /** The components of every namespace now. */
  list(): Located[] {
    const all: Located[] = [];
    for (const namespace of tryRead(() => this.infrastructure.namespaces()) ?? []) {
      const children = tryRead(() => this.infrastructure.namespace(namespace).whichChildren());
      let located = this.known.get(namespace);
      if (children !== undefined) {
        located = [];
        for (const child of children) {
          for (const [prefix, kind] of Object.entries(KINDS)) {
            if (child.id.startsWith(prefix)) located.push({ kind, namespace, local: child.id.slice(prefix.length) });
          }
        }
        this.known.set(namespace, located);
      }
      all.push(...(located ?? []));
    }
    return all;
  }

  /** The component's name as it reports it: read now when `name` is given, else remembered. */
  nameOf(located: Located, name: string | undefined): string {
    const key = `${located.kind}\u0000${located.namespace}\u0000${located.local}`;
    if (name !== undefined) this.names.set(key, name);
    return this.names.get(key) ?? `${located.namespace}.${located.local}`;
  }
}

/** A breaker now; `probeInMs` from its machine's `halfOpenAt`, on the breaker's own clock. */
export function breakerView(breaker: Breaker): BreakerView {
  const state = breaker.state();
  const view: BreakerView = { name: breaker.name, state, stats: breaker.stats() };
  if (state === 'open') {
    const context = tryRead(() => breaker.actor.getSnapshot().context as Partial<BreakerContext> | undefined);
    if (typeof context?.halfOpenAt === 'number' && typeof context.clock?.now === 'function') {
      view.probeInMs = Math.max(0, Math.ceil(context.halfOpenAt - context.clock.now()));
    }
  }
  return view;
}

/** A pool's or thread pool's status now; unavailable when it cannot say (a supervised pool not running). */
function statusView<S>(name: string, pool: { status(): S } | undefined): { name: string; status?: S; available: boolean } {
  const status = pool === undefined ? undefined : tryRead(() => pool.status());
  return status === undefined ? { name, available: false } : { name, status, available: true };
}

/**
 * Reads every component the options name, the infrastructure's included: each list keyed by
 * name, the first of two components with one name kept. `limiterCounts` holds what `limiter.hit`
 * telemetry said of each limiter.
 */
export function readComponents(
  options: ResolvedObserverOptions,
  catalog: InfrastructureCatalog | undefined,
  limiterCounts: ReadonlyMap<string, RecentCounts>,
  now: number,
): ComponentViews {
  const views: ComponentViews = { breakers: [], pools: [], threadPools: [], limiters: [], leases: [] };
  const seen = { breakers: new Set<string>(), pools: new Set<string>(), threadPools: new Set<string>(), limiters: new Set<string>() };
  const add = <K extends keyof typeof seen>(section: K, view: ComponentViews[K][number]): void => {
    if (seen[section].has(view.name)) return;
    seen[section].add(view.name);
    (views[section] as Array<typeof view>).push(view);
  };
  const limiterView = (name: string, keys: number | undefined): LimiterView => {
    const counts = limiterCounts.get(name);
    const recent = counts?.read(now) ?? { hits: 0, denied: 0, peakCount: 0 };
    const view: LimiterView = { name, ...recent, deniedTotal: counts?.deniedTotal ?? 0, windowMs: options.historyMs };
    if (keys !== undefined) view.keys = keys;
    if (counts?.lastDeniedAt !== undefined) view.lastDeniedAgoMs = Math.max(0, Math.round(now - counts.lastDeniedAt));
    return view;
  };
  const keysOf = (limiter: unknown): number | undefined => {
    const size = (limiter as { size?: unknown }).size;
    return typeof size === 'number' ? size : undefined;
  };

  for (const breaker of options.breakers) add('breakers', tryRead(() => breakerView(breaker)) ?? { name: breaker.name, state: 'unavailable' });
  for (const pool of options.pools) add('pools', statusView(pool.name, pool));
  for (const pool of options.threadPools) add('threadPools', statusView(pool.name, pool));
  for (const limiter of options.limiters) add('limiters', limiterView(limiter.name, keysOf(limiter)));

  const infrastructure = options.infrastructure;
  if (catalog !== undefined && infrastructure !== undefined) {
    for (const located of catalog.list()) {
      const { namespace, local } = located;
      switch (located.kind) {
        case 'breaker': {
          const breaker = tryRead(() => infrastructure.breaker(namespace, local));
          const name = catalog.nameOf(located, breaker?.name);
          add('breakers', (breaker && tryRead(() => breakerView(breaker))) ?? { name, state: 'unavailable' });
          break;
        }
        case 'limiter': {
          const limiter = tryRead(() => infrastructure.limiter(namespace, local));
          add('limiters', limiterView(catalog.nameOf(located, limiter?.name), limiter && keysOf(limiter)));
          break;
        }
        case 'pool': {
          const pool = tryRead(() => infrastructure.pool(namespace, local));
          add('pools', statusView(catalog.nameOf(located, pool?.name), pool));
          break;
        }
        case 'threads': {
          const pool = tryRead(() => infrastructure.threadPool(namespace, local));
          add('threadPools', statusView(catalog.nameOf(located, pool?.name), pool));
          break;
        }
      }
    }
  }

  for (const lease of options.leases) {
    const held = tryRead(() => lease.isHeld()) === true;
    const view: LeaseView = { name: lease.name, owner: lease.owner, held };
    const fence = held ? tryRead(() => lease.fence) : undefined;
    if (typeof fence === 'number') view.fence = fence;
    views.leases.push(view);
  }
  return views;
}

/** The breaker named `name` among those the options name and the infrastructure runs now, if any. */
export function findBreaker(options: ResolvedObserverOptions, catalog: InfrastructureCatalog | undefined, name: string): Breaker | undefined {
  const given = options.breakers.find((breaker) => breaker.name === name);
  if (given !== undefined) return given;
  const infrastructure = options.infrastructure;
  if (catalog === undefined || infrastructure === undefined) return undefined;
  for (const located of catalog.list()) {
    if (located.kind !== 'breaker') continue;
    const breaker = tryRead(() => infrastructure.breaker(located.namespace, located.local));
    if (breaker?.name === name) return breaker;
  }
  return undefined;
}
