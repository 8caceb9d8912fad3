/**
 * The one protocol between the multi-process harness (`spec/cluster/harness.ts`) and the service
 * it forks (`instance.ts`): the service's configuration, the commands the harness sends over the
 * IPC channel, and the events the service reports back. Every event carries `at`, the service's
 * `Date.now()` when it happened: all processes run on one machine, so this wall clock is common to
 * them (the fenced writes also carry the database's `clock_timestamp()`).
 */

/** Which store keeps the singleton's lease. */
export type LeaseBackend = 'postgres' | 'redis';

/** What one service process is started with (JSON in {@link SERVICE_CONFIG_ENV}). */
export interface ServiceConfig {
  /** The instance's id: the lease owner, and the PostgreSQL `application_name` of its connections. */
  readonly instance: string;
  readonly lease: {
    readonly backend: LeaseBackend;
    readonly name: string;
    readonly ttlMs: number;
    readonly retryMs: number;
    /** PostgreSQL: the lease table. */
    readonly table: string;
    /** Redis: the key prefix (on `redisUrl`). */
    readonly prefix: string;
  };
  readonly databaseUrl: string;
  /** The Redis of the lease (backend `redis`) and of the limiter. */
  readonly redisUrl: string;
  /** The fenced-write tables (see `fenced-writes.ts`). */
  readonly writes: { readonly log: string; readonly mark: string; readonly everyMs: number };
  readonly limiter: { readonly name: string; readonly prefix: string; readonly limit: number; readonly windowMs: number };
  /** The breaker fleet every instance's shared breaker `name` is attached to, on `redisUrl`. */
  readonly breakers: { readonly name: string; readonly prefix: string; readonly heartbeatMs: number };
}

/** The environment variable holding the {@link ServiceConfig} as JSON. */
export const SERVICE_CONFIG_ENV = 'OVERSEER_CLUSTER_SERVICE';

/** Commands from the harness. */
export type Command =
  /** Stop the supervision tree gracefully (releasing the lease), close every connection, exit by itself. */
  | { readonly type: 'stop' }
  /** One hit on the shared Redis limiter; answered by a `hit` event with the same `id`. */
  | { readonly type: 'hit'; readonly id: number; readonly key: string }
  /** Isolate the shared breaker across instances from this one; answered by an `isolate` event. */
  | { readonly type: 'isolate'; readonly id: number; readonly reason: string }
  /** Restore the shared breaker across instances from this one; answered by a `restore` event. */
  | { readonly type: 'restore'; readonly id: number }
  /** One call through this instance's shared breaker; answered by a `call` event. */
  | { readonly type: 'call'; readonly id: number }
  /** This instance's fleet's cluster view; answered by a `view` event. */
  | { readonly type: 'view'; readonly id: number };

/** What every event carries. */
interface EventBase {
  readonly instance: string;
  readonly pid: number;
  /** The service's `Date.now()` when it happened. */
  readonly at: number;
}

/** Events from a service process. */
export type ServiceEvent = EventBase &
  (
    | { readonly type: 'ready' }
    | { readonly type: 'lease.acquired'; readonly fence: number }
    | { readonly type: 'lease.lost'; readonly fence: number; readonly reason: string }
    | { readonly type: 'lease.released'; readonly fence: number; readonly confirmed: boolean }
    /** The singleton's actor started, with this fence. */
    | { readonly type: 'run.started'; readonly fence: number }
    /** The singleton's actor ended (stopped for a loss or a shutdown). */
    | { readonly type: 'run.stopped'; readonly fence: number }
    /**
     * A fenced write settled: `sentAt` when it was sent; `accepted` whether the table took it (then
     * `seq` and `dbAt`, the database's `clock_timestamp()` in ms, say where and when).
     */
    | {
        readonly type: 'write';
        readonly fence: number;
        readonly sentAt: number;
        readonly accepted: boolean;
        readonly seq?: number;
        readonly dbAt?: number;
        readonly error?: string;
      }
    | { readonly type: 'hit'; readonly id: number; readonly allowed?: boolean; readonly error?: string }
    /** The fleet's `isolate()` resolved (`by` the isolation's instance) or rejected (`error`). */
    | { readonly type: 'isolate'; readonly id: number; readonly by?: string; readonly error?: string }
    /** The fleet's `restore()` resolved (`existed`: there was an isolation) or rejected (`error`). */
    | { readonly type: 'restore'; readonly id: number; readonly existed?: boolean; readonly error?: string }
    /** A call through the shared breaker ran, or was refused (with the state, and who isolated it when isolated). */
    | { readonly type: 'call'; readonly id: number; readonly outcome: 'ran' | 'refused'; readonly state: string; readonly isolatedBy?: string }
    /** The fleet's view (instance → breaker → state and isolation), and whether its subscription stands. */
    | {
        readonly type: 'view';
        readonly id: number;
        readonly view: Record<string, Record<string, { state: string; isolated: boolean }>>;
        readonly subscribed: boolean;
      }
    /** The shared breaker's `state()` changed (reported as it happens: the moment calls start or stop being refused). */
    | { readonly type: 'breaker.state'; readonly state: string; readonly isolated: boolean }
    /** Something went wrong that the service did not expect (an uncaught error, a failed stop). */
    | { readonly type: 'fault'; readonly message: string }
    /** The tree is stopped and every connection closed; the process exits by itself next. */
    | { readonly type: 'stopped' }
  );
