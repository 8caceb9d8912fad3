import type { BreakerState, BreakerStats } from '../breaker/index.js';
import type { PoolStatus, ThreadPoolStatus } from '../pool/index.js';
import type { ExitReason, Restart, Strategy } from '../supervisor/index.js';

/**
 * What the observer sends: the snapshot (`GET {base}/snapshot`, and the first message of
 * `GET {base}/events`) and the deltas that follow it. Plain JSON; times that count down are
 * "ms from now" at the moment the message was built (`…InMs`), times past are "ms ago" (`…AgoMs`).
 */

/**
 * Where a child is: `running`; in `backoff`, waiting out its restart delay; `restarting`, a restart
 * that failed to start, waiting to be tried again; `stopped` (terminated, a transient or temporary
 * child that ended, or a singleton standing by).
 */
export type ChildStatus = 'running' | 'backoff' | 'restarting' | 'stopped';

/** How a child last exited, as its supervisor's telemetry said. */
export interface ExitView {
  /** Why it exited (see {@link ExitReason}). */
  reason: ExitReason;
  /** The error's message for an `'error'` exit (at most 300 characters). */
  error?: string;
  /** The error's `code`, when it has a string one. */
  code?: string;
  /** How long ago, in ms. */
  exitedAgoMs: number;
}

/** One child of a supervisor. */
export interface ChildView {
  /** The child's id within its supervisor. */
  id: string;
  /** A worker, or a nested supervisor. */
  type: 'worker' | 'supervisor';
  /** When it is restarted (see {@link Restart}). */
  restart: Restart;
  /** Where it is now (see {@link ChildStatus}). */
  status: ChildStatus;
  /** In backoff: ms until its restart is due, ≥ 0. */
  restartInMs?: number;
  /** A running nested supervisor: its id (its own {@link SupervisorView} is in the same message). */
  supervisor?: string;
  /** Restarts the observer saw: all of them, and those within the recent window (`historyMs`). */
  restarts: {
    /** Every restart the observer saw. */
    total: number;
    /** Those within the last `historyMs`. */
    recent: number;
  };
  /** How it last exited, when the observer saw it exit. */
  lastExit?: ExitView;
}

/** Children of a supervisor by status, over all of them (not only the page shown). */
export interface ChildCountsView {
  /** Every child the supervisor holds. */
  total: number;
  /** Children with status `running`. */
  running: number;
  /** Children with status `backoff`. */
  backoff: number;
  /** Children with status `restarting`. */
  restarting: number;
  /** Children with status `stopped`. */
  stopped: number;
}

/** Which page of a supervisor's children a view holds. */
export interface PageView {
  /** The page's number, 0-based. */
  index: number;
  /** Children per page (`pageSize`). */
  size: number;
  /** Pages of the children that pass `status` (at least 1). */
  pages: number;
  /** Children that pass `status`. */
  matching: number;
  /** Only children with this status, when a filter was asked for. */
  status?: ChildStatus;
}

/** One supervisor of an observed tree. */
export interface SupervisorView {
  /** The supervisor's id (a nested one's is `<parent>/<child id>`). */
  id: string;
  /** The supervisor it runs under, for a nested one. */
  parent?: string;
  /** `'dynamic'` for a supervisor of `startDynamicSupervisor`, else `'static'`. */
  kind: 'static' | 'dynamic';
  /** The restart strategy, when the supervisor tells it (a dynamic one is always `one_for_one`). */
  strategy?: Strategy;
  /** `stopped` once it has exited (stopped, or gave up on its restart intensity). */
  status: 'running' | 'stopped';
  /** Its children by status, over all of them. */
  counts: ChildCountsView;
  /** Which page of its children `children` holds. */
  page: PageView;
  /** One page of its children, in start order. */
  children: ChildView[];
}

/** A circuit breaker, as the observer shows it. */
export interface BreakerView {
  /** The breaker's name. */
  name: string;
  /** `unavailable`: a supervised breaker not running now (being restarted). */
  state: BreakerState | 'unavailable';
  /** Open: ms until it lets a probe through, ≥ 0. */
  probeInMs?: number;
  /** Its counters, when it is available. */
  stats?: BreakerStats;
}

/** A pool of workers, as the observer shows it. */
export interface PoolView {
  /** The pool's name. */
  name: string;
  /** Its `status()`, when it is available. */
  status?: PoolStatus;
  /** False for a supervised pool not running now (being restarted): `status` is then absent. */
  available: boolean;
}

/** A pool of worker threads, as the observer shows it. */
export interface ThreadPoolView {
  /** The thread pool's name. */
  name: string;
  /** Its `status()`, when it is available. */
  status?: ThreadPoolStatus;
  /** False for a supervised thread pool not running now (being restarted): `status` is then absent. */
  available: boolean;
}

/** A rate limiter, with what its `limiter.hit` telemetry said within the recent window. */
export interface LimiterView {
  /** The limiter's name. */
  name: string;
  /** Keys held in memory, for an embedded limiter. */
  keys?: number;
  /** Hits decided within the window. */
  hits: number;
  /** Hits denied within the window. */
  denied: number;
  /** The highest count a key reached within the window. */
  peakCount: number;
  /** Denials since the observer started watching. */
  deniedTotal: number;
  /** How long ago the last denial was, in ms. */
  lastDeniedAgoMs?: number;
  /** The window those counts cover, in ms (`historyMs`). */
  windowMs: number;
}

/** A cluster lease (a singleton's). */
export interface LeaseView {
  /** The lease's name. */
  name: string;
  /** This instance's owner id. */
  owner: string;
  /** Whether this instance holds it now. */
  held: boolean;
  /** The fence of the holding, when held. */
  fence?: number;
}

/** Something notable that happened: an error exit, a restart, a backoff, a breaker moving, a lease lost. */
export interface EventView {
  /** Increasing; a client that already has an id ignores it again. */
  id: number;
  /**
   * What happened: a child's error `exit` or failed start, a `restart`, a `backoff` wait, a
   * supervisor's `shutdown`, a `breaker` changing state, a pool `worker` exiting, a `lease`
   * acquired, lost or released, or an observer `action`.
   */
  kind: 'exit' | 'restart' | 'backoff' | 'shutdown' | 'breaker' | 'worker' | 'lease' | 'action';
  /** The component it concerns (`<supervisor>/<child>`, a breaker's, pool's or lease's name). */
  subject: string;
  /** One line for a person. */
  text: string;
  /** How long ago, in ms. */
  agoMs: number;
  /** Marks what went wrong (error exits, breakers opening, crashes, leases lost). */
  severity: 'info' | 'warning' | 'error';
}

/** Everything the observer sees, as `GET {base}/snapshot` answers and `events` starts with. */
export interface ObserverSnapshot {
  /** The last delta id it includes (the SSE `id`). */
  seq: number;
  /** Whether the action routes exist (`actions: true` with a token). */
  actions: boolean;
  /** Children per page. */
  pageSize: number;
  /** The window of recent counts, in ms. */
  historyMs: number;
  /** Supervisors of every observed tree, each root followed by its nested supervisors, depth first. */
  supervisors: SupervisorView[];
  /** Every observed breaker, the infrastructure's included. */
  breakers: BreakerView[];
  /** Every observed pool, the infrastructure's included. */
  pools: PoolView[];
  /** Every observed thread pool, the infrastructure's included. */
  threadPools: ThreadPoolView[];
  /** Every observed rate limiter, the infrastructure's included. */
  limiters: LimiterView[];
  /** Every observed cluster lease. */
  leases: LeaseView[];
  /** The most recent notable events, oldest first. */
  events: EventView[];
}

/** What changed since the last message: views replace the client's by id or name. */
export interface ObserverDelta {
  /** This delta's id (the SSE `id`), one more than the previous message's. */
  seq: number;
  /** Supervisors that changed, whole. */
  supervisors?: SupervisorView[];
  /** Supervisors gone from the trees (a nested supervisor stopped or restarted as a new one). */
  removedSupervisors?: string[];
  /** Breakers that changed. */
  breakers?: BreakerView[];
  /** Pools that changed. */
  pools?: PoolView[];
  /** Thread pools that changed. */
  threadPools?: ThreadPoolView[];
  /** Limiters whose view changed (their counts, their keys). */
  limiters?: LimiterView[];
  /** Leases that changed. */
  leases?: LeaseView[];
  /** Notable events since the last message, oldest first. */
  events?: EventView[];
}
