import type { AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import type { Telemetry } from '../telemetry/index.js';

/** How a supervisor reacts when a child must be restarted (OTP's restart strategies). */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** When a child is restarted: `permanent` always, `transient` after an `'error'` exit, `temporary` never. */
export type Restart = 'permanent' | 'transient' | 'temporary';

/** How a child is stopped: at once, waiting forever, or waiting up to this many milliseconds. */
export type Shutdown = 'brutal_kill' | 'infinity' | number;

/** Why a child exited, as its supervisor saw it. */
export type ExitReason = 'normal' | 'shutdown' | 'error';

/** What a child's `start` is given: the supervisor's clock and telemetry, for children that take them. */
export interface StartContext {
  /** The id of the supervisor starting the child. */
  readonly supervisor: string;
  /** The supervisor's clock. */
  readonly clock: Clock;
  /** The supervisor's telemetry. */
  readonly telemetry: Telemetry;
  /**
   * Aborted when the supervisor exits (with a `SupervisorError('not_running')` as its reason). A
   * start still in flight then may give up: whatever it returns later is stopped at once anyway.
   */
  readonly signal: AbortSignal;
}

/**
 * Restart with backoff: how long a child waits before each restart (Akka's `RestartSettings`).
 * The n-th consecutive restart (n = 0 the first) waits `min(maxMs, minMs·2ⁿ) × (1 + u·randomFactor)`,
 * `u` uniform in [0, 1). Without it restarts are immediate, as in OTP.
 *
 * @example
 * ```ts
 * { id: 'db-listener', start, backoff: { minMs: 200, maxMs: 30_000 } } // 200, 400, 800 ms ... 30 s, +0–20 %
 * ```
 */
export interface Backoff {
  /** The first delay, in ms; finite and above 0. */
  minMs: number;
  /** The cap of the delay before jitter, in ms; finite and at least `minMs`. */
  maxMs: number;
  /** The jitter: each delay is multiplied by `1 + u × randomFactor`; in [0, 1]. Default 0.2. */
  randomFactor?: number;
  /** A child that has stayed up this long starts again at `minMs` on its next failure. Default `(minMs + maxMs) / 2`. */
  resetAfterMs?: number;
}

/** Describes one child: how to start it, when to restart it and how to stop it. */
export interface ChildSpec {
  /** Unique among the supervisor's children. */
  id: string;
  /**
   * Returns the child's actor, started or not; the supervisor starts it. Throwing, rejecting or
   * returning an actor that has failed is a failed start; an actor that has already ended
   * otherwise is an exit of the child. What a start returns after its supervisor exited is stopped.
   */
  start: (context: StartContext) => AnyActorRef | Promise<AnyActorRef>;
  /** When the child is restarted after it exits (see {@link Restart}). Default `'permanent'`. */
  restart?: Restart;
  /**
   * How long its supervisor waits for it to stop before killing it (see {@link Shutdown}).
   * Default 5000 for workers, `'infinity'` for supervisors.
   */
  shutdown?: Shutdown;
  /** `'supervisor'` for a nested supervisor (as `supervisorChild` makes), else `'worker'`. Default `'worker'`. */
  type?: 'worker' | 'supervisor';
  /** Whether its exit can shut the supervisor down (see `autoShutdown`). Default false. */
  significant?: boolean;
  /**
   * Wait before each restart of this child (see {@link Backoff}); default the supervisor's
   * `backoff`, else none: restarts are immediate.
   */
  backoff?: Backoff;
}

/** Describes a static supervisor: its strategy, restart intensity and children in start order. */
export interface SupervisorSpec {
  /** Which children a restart takes along (see {@link Strategy}). Default `'one_for_one'`. */
  strategy?: Strategy;
  /** Restarts allowed within `period` before the supervisor gives up and exits `'shutdown'`. Default 1. */
  intensity?: number;
  /** The window of the restart intensity, in ms. Default 5000. */
  period?: number;
  /** Whether the exit of significant children shuts the supervisor down. Default `'never'`. */
  autoShutdown?: 'never' | 'any_significant' | 'all_significant';
  /** The backoff of every child that gives none of its own. Default none: immediate restarts. */
  backoff?: Backoff;
  /** Started in this order, stopped in reverse. */
  children: ChildSpec[];
}

/** One entry of `whichChildren()`: a child's id, its actor if running, and how it is treated. */
export interface ChildInfo {
  /** The child's id (generated as `<supervisor>#N` for a dynamic child started without one). */
  id: string;
  /** The running actor, or `undefined` when the child is not running. */
  ref: AnyActorRef | undefined;
  /** Whether the child is a worker or a nested supervisor, as its spec said. */
  type: 'worker' | 'supervisor';
  /** When the child is restarted, as its spec said (default `'permanent'`). */
  restart: Restart;
  /**
   * Present (true) while the child is waiting to be restarted: for its backoff delay, or for a
   * restart that failed to start to be tried again (OTP's `{restarting, _}`).
   */
  restarting?: boolean;
  /** While it waits for its backoff delay: the clock time (`clock.now()`) of its next restart. */
  nextRestartAt?: number;
}

/** The result of `countChildren()`, as OTP's `count_children`. */
export interface ChildCounts {
  /** Child specs held, running or not. */
  specs: number;
  /** Children running now. */
  active: number;
  /** Child specs of type supervisor, running or not. */
  supervisors: number;
  /** Child specs of type worker, running or not. */
  workers: number;
}

/** Options of `startSupervisor` and `startDynamicSupervisor`. */
export interface SupervisorOptions {
  /** Names the supervisor in telemetry and errors. Default a generated `supervisor-N`. */
  id?: string;
  /** The clock of its intensity window and backoff delays, passed on to its children; a test clock in specs. Default `systemClock`. */
  clock?: Clock;
  /** Where it reports child starts, exits, restarts and shutdowns, passed on to its children. Default the shared `telemetry`. */
  telemetry?: Telemetry;
  /** The source of the backoff jitter `u`, uniform in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * A running static supervisor, as `startSupervisor` resolves it: OTP's supervisor API
 * (`which_children`, `start_child`, `terminate_child` ...) over children declared up front.
 * Requests are served one at a time in order; every one made after it exited rejects with
 * `SupervisorError('not_running')`, and a child id that is not a string with
 * `InvalidArgumentError`.
 */
export interface Supervisor {
  /** Names it in telemetry and errors (`options.id`, or a generated `supervisor-N`). */
  readonly id: string;
  /** Its restart strategy, as its spec gave it (default `'one_for_one'`). */
  readonly strategy: Strategy;
  /** This supervisor as an XState actor; a parent supervisor watches it like any child. */
  readonly ref: AnyActorRef;
  /** Settles when it stops for any reason: `'normal'` after `stop()`, `'shutdown'` otherwise. */
  readonly exited: Promise<'normal' | 'shutdown'>;
  /** OTP `which_children`: every child whose spec it holds, in start order, running or not. */
  whichChildren(): ChildInfo[];
  /** OTP `count_children`: how many specs it holds, how many run, and how many of each type. */
  countChildren(): ChildCounts;
  /**
   * OTP `start_child`: adds a child after the others and starts it; resolves with its actor.
   * Rejects with `ConfigError` for a bad spec, `SupervisorError` `already_started` /
   * `already_present` for a taken id, `start_failed` when its start fails (the spec is then not
   * kept), and `not_running` at once if the supervisor exits while the start is in flight.
   */
  startChild(spec: ChildSpec): Promise<AnyActorRef>;
  /**
   * OTP `terminate_child`: stops a child within its `shutdown` and cancels a pending restart; the
   * spec is kept (use `restartChild` or `deleteChild` next) unless the child is `temporary`.
   * Rejects with `SupervisorError('not_found')` for an unknown id.
   */
  terminateChild(id: string): Promise<void>;
  /**
   * OTP `restart_child`: starts again a child whose spec is kept but which is not running (or is
   * waiting for its backoff delay), without counting against the intensity. Rejects `running`,
   * `restarting`, `not_found` or `start_failed` as OTP does, and `not_running` at once if the
   * supervisor exits while the start is in flight.
   */
  restartChild(id: string): Promise<AnyActorRef>;
  /**
   * OTP `delete_child`: forgets the spec of a child that is not running, so its id can be used
   * again. Rejects with `SupervisorError` `running`, `restarting` or `not_found`.
   */
  deleteChild(id: string): Promise<void>;
  /** Stops the children in reverse start order, after any start in flight; `ref.stop()` kills at once. */
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The spec of a child of a dynamic supervisor: the id is optional and generated when absent. */
export type DynamicChildSpec = Omit<ChildSpec, 'id'> & {
  /** Unique among the supervisor's children. Default a generated `<supervisor>#N`. */
  id?: string;
};

/**
 * A running dynamic supervisor, as `startDynamicSupervisor` resolves it: one_for_one over
 * children started on demand (sessions, connections, jobs), forgotten once they will not be
 * restarted. Requests made after it exited reject with `SupervisorError('not_running')`.
 */
export interface DynamicSupervisor {
  /** Names it in telemetry and errors (`options.id`, or a generated `dynamic-supervisor-N`). */
  readonly id: string;
  /** This supervisor as an XState actor; a parent supervisor watches it like any child. */
  readonly ref: AnyActorRef;
  /** Settles when it stops for any reason: `'normal'` after `stop()`, `'shutdown'` otherwise. */
  readonly exited: Promise<'normal' | 'shutdown'>;
  /**
   * Starts one more child; resolves with its id (`spec.id`, or a generated `<supervisor>#N`) and
   * its actor. Rejects with `ConfigError` for a bad spec, `SupervisorError` `max_children` when
   * it holds `maxChildren`, `already_started` (or `already_present`) for a taken id and
   * `start_failed` when the start fails.
   */
  startChild(spec: DynamicChildSpec): Promise<{
    /** The child's id, given or generated. */
    id: string;
    /** The child's running actor. */
    ref: AnyActorRef;
  }>;
  /**
   * Stops a child within its `shutdown` and forgets it (a dynamic supervisor keeps no stopped
   * children). Rejects with `SupervisorError('not_found')` for an unknown id.
   */
  terminateChild(id: string): Promise<void>;
  /** Every child it holds, in start order (running, or waiting to be restarted). */
  whichChildren(): ChildInfo[];
  /** How many children it holds, how many run, and how many of each type. */
  countChildren(): ChildCounts;
  /** Stops every child in reverse start order, after any start in flight, then exits `'normal'`. */
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of `startDynamicSupervisor`. */
export interface DynamicSupervisorOptions extends SupervisorOptions {
  /** Restarts allowed within `period` before the supervisor gives up and exits `'shutdown'`. Default 1. */
  intensity?: number;
  /** The window of the restart intensity, in ms. Default 5000. */
  period?: number;
  /** The most children it holds at once. Default unlimited. */
  maxChildren?: number;
  /** The backoff of every child that gives none of its own. Default none: immediate restarts. */
  backoff?: Backoff;
}
