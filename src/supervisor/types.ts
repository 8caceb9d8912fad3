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
  /** The first delay, in ms; finite and > 0. */
  minMs: number;
  /** The cap of the delay before jitter, in ms; finite and >= `minMs`. */
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
  /** Default `'permanent'`. */
  restart?: Restart;
  /** Default 5000 for workers, `'infinity'` for supervisors. */
  shutdown?: Shutdown;
  /** Default `'worker'`. */
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
  /** Default `'one_for_one'`. */
  strategy?: Strategy;
  /** Restarts allowed within `period` before the supervisor gives up. Default 1. */
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

/** One entry of `whichChildren()`. */
export interface ChildInfo {
  id: string;
  /** The running actor, or `undefined` when the child is not running. */
  ref: AnyActorRef | undefined;
  type: 'worker' | 'supervisor';
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

/** Options of {@link startSupervisor} and {@link startDynamicSupervisor}. */
export interface SupervisorOptions {
  /** Names the supervisor in telemetry and errors. Default a generated `supervisor-N`. */
  id?: string;
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default the shared `telemetry`. */
  telemetry?: Telemetry;
  /** The source of the backoff jitter `u`, uniform in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** A running static supervisor. */
export interface Supervisor {
  readonly id: string;
  /** This supervisor as an XState actor; a parent supervisor watches it like any child. */
  readonly ref: AnyActorRef;
  /** Settles when it stops for any reason: `'normal'` after `stop()`, `'shutdown'` otherwise. */
  readonly exited: Promise<'normal' | 'shutdown'>;
  whichChildren(): ChildInfo[];
  countChildren(): ChildCounts;
  /** OTP `start_child`; rejects `not_running` at once if the supervisor exits while the start is in flight. */
  startChild(spec: ChildSpec): Promise<AnyActorRef>;
  terminateChild(id: string): Promise<void>;
  /** OTP `restart_child`; rejects `not_running` at once if the supervisor exits while the start is in flight. */
  restartChild(id: string): Promise<AnyActorRef>;
  deleteChild(id: string): Promise<void>;
  /** Stops the children in reverse start order, after any start in flight; `ref.stop()` kills at once. */
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The spec of a child of a dynamic supervisor: the id is optional and generated when absent. */
export type DynamicChildSpec = Omit<ChildSpec, 'id'> & { id?: string };

/** A running dynamic supervisor: one_for_one over children started on demand. */
export interface DynamicSupervisor {
  readonly id: string;
  readonly ref: AnyActorRef;
  readonly exited: Promise<'normal' | 'shutdown'>;
  startChild(spec: DynamicChildSpec): Promise<{ id: string; ref: AnyActorRef }>;
  terminateChild(id: string): Promise<void>;
  whichChildren(): ChildInfo[];
  countChildren(): ChildCounts;
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link startDynamicSupervisor}. */
export interface DynamicSupervisorOptions extends SupervisorOptions {
  /** Default 1. */
  intensity?: number;
  /** Default 5000. */
  period?: number;
  /** The most children it holds at once. Default unlimited. */
  maxChildren?: number;
  /** The backoff of every child that gives none of its own. Default none: immediate restarts. */
  backoff?: Backoff;
}
