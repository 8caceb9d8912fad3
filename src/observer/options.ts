import type { Breaker } from '../breaker/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { ClusterLease } from '../cluster/index.js';
import { ConfigError } from '../core/index.js';
import { boolean, clockOption, finiteNumber, integer, record, telemetryOption } from '../core/validate.js';
import type { Infrastructure } from '../infrastructure/index.js';
import type { RateLimiter } from '../limiter/index.js';
import type { PoolStatus, ThreadPool } from '../pool/index.js';
import type { DynamicSupervisor, Supervisor } from '../supervisor/index.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';

/** What the observer needs of a pool: its name and `status()` (any `Pool`, an HTTP pool included). */
export interface ObservedPool {
  /** The pool's name, as the page lists it. */
  readonly name: string;
  /** Its status now; read every `sampleMs` while a client is connected. */
  status(): PoolStatus;
}

/** Options of {@link createObserver}. Every list is read live, through the components' public API. */
export interface ObserverOptions {
  /** Supervision trees to show: each root and, through `supervisorOf`, every nested supervisor. Default none. */
  supervisors?: ReadonlyArray<Supervisor | DynamicSupervisor>;
  /** An infrastructure tree: its supervisors, and every breaker, limiter, pool and thread pool of its namespaces. Default none. */
  infrastructure?: Infrastructure;
  /** Breakers besides the infrastructure's. Default none. */
  breakers?: readonly Breaker[];
  /** Pools besides the infrastructure's. Default none. */
  pools?: readonly ObservedPool[];
  /** Thread pools besides the infrastructure's. Default none. */
  threadPools?: ReadonlyArray<Pick<ThreadPool, 'name' | 'status'>>;
  /** Rate limiters besides the infrastructure's. Default none. */
  limiters?: ReadonlyArray<Pick<RateLimiter, 'name'>>;
  /** Cluster leases (e.g. singletons' leases). Default none. */
  leases?: ReadonlyArray<Pick<ClusterLease, 'name' | 'owner' | 'isHeld' | 'fence'>>;
  /** Where the observed components report; subscribed to only while a client is connected. Default the shared `telemetry`. */
  telemetry?: Telemetry;
  /** Every timer of the observer, and "ms from now" / "ms ago". Use the supervisors' clock. Default `systemClock`. */
  clock?: Clock;
  /** The path it serves under: `''` or `/` and segments of `A-Z a-z 0-9 - _ . ~`, no trailing `/`. Default `'/observer'`. */
  base?: string;
  /** Whether the action routes exist (restart / terminate a child; melt / reset / isolate / restore a breaker). Needs `token`. Default false. */
  actions?: boolean;
  /** The bearer token every action request must carry (`Authorization: Bearer <token>`), at least 16 characters. Required with `actions: true`. */
  token?: string;
  /** The most messages a second each client gets, in (0, 60]; events in between are coalesced. Default 10. */
  maxUpdatesPerSecond?: number;
  /** How often an idle stream carries a heartbeat comment, in ms, ≥ 100. Default 15000. */
  heartbeatMs?: number;
  /** Children per page of a supervisor, an integer in [1, 1000]. Default 50. */
  pageSize?: number;
  /** A client whose unsent output exceeds this many bytes is dropped, ≥ 1024. Default 1048576 (1 MiB). */
  maxBufferedBytes?: number;
  /** Event streams served at once; one more is answered 503. An integer ≥ 1. Default 64. */
  maxClients?: number;
  /** How often, while a client is connected, gauges without events of their own (pools, thread pools, breaker counters, leases) are read again, in ms, ≥ 100. Default 1000. */
  sampleMs?: number;
  /** The window of recent restart counts and limiter denials, in ms, ≥ 1000. Default 60000. */
  historyMs?: number;
}

/** {@link ObserverOptions} after validation and defaults, frozen. */
export interface ResolvedObserverOptions {
  readonly supervisors: ReadonlyArray<Supervisor | DynamicSupervisor>;
  readonly infrastructure: Infrastructure | undefined;
  readonly breakers: readonly Breaker[];
  readonly pools: readonly ObservedPool[];
  readonly threadPools: ReadonlyArray<Pick<ThreadPool, 'name' | 'status'>>;
  readonly limiters: ReadonlyArray<Pick<RateLimiter, 'name'>>;
  readonly leases: ReadonlyArray<Pick<ClusterLease, 'name' | 'owner' | 'isHeld' | 'fence'>>;
  readonly telemetry: Telemetry;
  readonly clock: Clock;
  readonly base: string;
  /** The token when actions are on, else undefined (the action routes do not exist). */
  readonly token: string | undefined;
  readonly minIntervalMs: number;
  readonly heartbeatMs: number;
  readonly pageSize: number;
  readonly maxBufferedBytes: number;
  readonly maxClients: number;
  readonly sampleMs: number;
  readonly historyMs: number;
}

const BASE_PATTERN = /^(?:\/[A-Za-z0-9\-_.~]+)*$/;
const MIN_TOKEN_LENGTH = 16;

/** A list of components, each passing `check`; the empty list when absent. */
function list<T>(option: string, value: unknown, expectation: string, check: (item: unknown) => boolean): readonly T[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) throw new ConfigError(option, value, `an array of ${expectation}`);
  value.forEach((item, index) => {
    if (!check(item)) throw new ConfigError(`${option}[${index}]`, item, expectation);
  });
  return Object.freeze([...value]) as readonly T[];
}

const hasMethods =
  (...methods: string[]) =>
  (item: unknown): boolean =>
    typeof item === 'object' && item !== null && methods.every((method) => typeof (item as Record<string, unknown>)[method] === 'function');

const named =
  (...methods: string[]) =>
  (item: unknown): boolean =>
    hasMethods(...methods)(item) && typeof (item as { name?: unknown }).name === 'string';

/** `''` for `/`, else the path without a trailing `/`; a ConfigError for anything else. */
function resolveBase(value: unknown): string {
  if (value === undefined) return '/observer';
  if (typeof value !== 'string') throw new ConfigError('base', value, "a path such as '/observer'");
  const trimmed = value.endsWith('/') ? value.slice(0, -1) : value;
  if (!BASE_PATTERN.test(trimmed) || trimmed.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new ConfigError('base', value, "'/' or a path of segments of A-Z a-z 0-9 - _ . ~ (such as '/observer')");
  }
  return trimmed;
}

/** A Telemetry whose `events$` the observer can subscribe to. */
function resolveTelemetry(value: unknown): Telemetry {
  const telemetry = telemetryOption<Telemetry>('telemetry', value, sharedTelemetry);
  if (typeof (telemetry.events$ as { subscribe?: unknown } | undefined)?.subscribe !== 'function') {
    throw new ConfigError('telemetry', value, 'a Telemetry (createTelemetry) with events$');
  }
  return telemetry;
}

/** Validates {@link ObserverOptions}; throws `ConfigError` naming the first bad option. */
export function resolveObserverOptions(options: ObserverOptions | undefined): ResolvedObserverOptions {
  const fields = record('options', options ?? {});
  const actions = boolean('actions', fields.actions, false);
  let token: string | undefined;
  if (fields.token !== undefined) {
    if (typeof fields.token !== 'string' || fields.token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError('token', '<redacted>', `a string of at least ${MIN_TOKEN_LENGTH} characters`);
    }
    token = fields.token;
  }
  if (actions && token === undefined) throw new ConfigError('token', fields.token, 'a bearer token (at least 16 characters) when actions is true');
  const infrastructure = fields.infrastructure;
  if (infrastructure !== undefined && !hasMethods('namespaces', 'namespace', 'breaker', 'limiter', 'pool', 'threadPool')(infrastructure)) {
    throw new ConfigError('infrastructure', infrastructure, 'an Infrastructure (startInfrastructure)');
  }
  const maxUpdatesPerSecond = finiteNumber('maxUpdatesPerSecond', fields.maxUpdatesPerSecond, 10);
  if (!(maxUpdatesPerSecond > 0 && maxUpdatesPerSecond <= 60)) throw new ConfigError('maxUpdatesPerSecond', fields.maxUpdatesPerSecond, 'a number in (0, 60]');
  const pageSize = integer('pageSize', fields.pageSize, 50, 1);
  if (pageSize > 1000) throw new ConfigError('pageSize', fields.pageSize, 'an integer in [1, 1000]');
  return Object.freeze({
    supervisors: list<Supervisor | DynamicSupervisor>('supervisors', fields.supervisors, 'a Supervisor or DynamicSupervisor', hasMethods('whichChildren')),
    infrastructure: infrastructure as Infrastructure | undefined,
    breakers: list<Breaker>('breakers', fields.breakers, 'a Breaker (createBreaker)', named('state', 'stats')),
    pools: list<ObservedPool>('pools', fields.pools, 'a Pool (with name and status())', named('status')),
    threadPools: list<Pick<ThreadPool, 'name' | 'status'>>('threadPools', fields.threadPools, 'a ThreadPool (with name and status())', named('status')),
    limiters: list<Pick<RateLimiter, 'name'>>('limiters', fields.limiters, 'a RateLimiter (with a name)', named()),
    leases: list<Pick<ClusterLease, 'name' | 'owner' | 'isHeld' | 'fence'>>('leases', fields.leases, 'a ClusterLease', named('isHeld')),
    telemetry: resolveTelemetry(fields.telemetry),
    clock: clockOption<Clock>('clock', fields.clock, systemClock),
    base: resolveBase(fields.base),
    token: actions ? token : undefined,
    minIntervalMs: 1000 / maxUpdatesPerSecond,
    heartbeatMs: finiteNumber('heartbeatMs', fields.heartbeatMs, 15_000, 100),
    pageSize,
    maxBufferedBytes: integer('maxBufferedBytes', fields.maxBufferedBytes, 1_048_576, 1024),
    maxClients: integer('maxClients', fields.maxClients, 64, 1),
    sampleMs: finiteNumber('sampleMs', fields.sampleMs, 1_000, 100),
    historyMs: finiteNumber('historyMs', fields.historyMs, 60_000, 1_000),
  });
}
