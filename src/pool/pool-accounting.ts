/**
 * A pool's accounting as one pure transition function: poolboy's `handle_call` and
 * `handle_info` clauses over counts, with the shell (`resource-pool.ts`) holding the workers and
 * the waiting checkouts and performing the effects.
 *
 * poolboy creates a worker inside the pool process, so a caller never sees a creation in flight;
 * here a creation takes time. The pool keeps the checkouts that wait for a worker in one FIFO and
 * counts the creations in flight; a creation that lands is placed as poolboy's checkin places a
 * worker (to the oldest waiter, else dismissed while overflowing, else idle). So the first
 * `creating` waiters are covered by a creation on its way, and a checkout is queued in poolboy's
 * sense (uncovered) only when no worker is idle, no creation is spare and overflow is at its
 * maximum. Which waiter a creation serves, or which one gets its error, is always the oldest.
 *
 * Invariant while running: `idle + checkedOut + creating + retrying = size + overflow` (poolboy's
 * `length(workers) + monitors = size + overflow`, plus the workers on their way).
 */

/** The phase of a pool: serving; draining (graceful stop: no new checkouts, leases awaited); stopped. */
export type PoolPhase = 'running' | 'draining' | 'stopped';

/** Every count of a pool, and the limits it is kept within. */
export interface PoolState {
  readonly phase: PoolPhase;
  readonly size: number;
  readonly maxOverflow: number;
  /** First delay before a failed base creation is retried; doubles per failure up to {@link maxRetryBackoffMs}. */
  readonly retryBackoffMs: number;
  readonly idle: number;
  readonly checkedOut: number;
  /** poolboy's overflow: workers beyond `size`, out or on their way. */
  readonly overflow: number;
  /** Creations in flight (in any phase: one that lands after the stop is destroyed). */
  readonly creating: number;
  /** Base places whose creation failed, waiting for their retry timer. */
  readonly retrying: number;
  /** Checkouts waiting for a worker, covered by a creation or not. */
  readonly waiting: number;
  /** Creations that failed since the last one that succeeded: the exponent of the retry backoff. */
  readonly failures: number;
}

/** What happened to the pool. Events about one worker or one checkout concern the one the shell is handling. */
export type PoolEvent =
  | { readonly type: 'start' }
  /** `idle_only` is `tryCheckout`: an idle worker or nothing. */
  | { readonly type: 'checkout'; readonly mode: 'block' | 'no_block' | 'idle_only' }
  /** A waiting checkout gave up (timeout or abort). */
  | { readonly type: 'withdraw' }
  | { readonly type: 'checkin' }
  | { readonly type: 'worker_exit'; readonly where: 'idle' | 'out' }
  | { readonly type: 'created' }
  | { readonly type: 'creation_failed'; readonly error: unknown }
  | { readonly type: 'retry_due' }
  | { readonly type: 'reconfigure'; readonly size: number; readonly maxOverflow: number; readonly retryBackoffMs: number }
  | { readonly type: 'drain' }
  | { readonly type: 'stop' };

/** What the shell must do. "This worker" and "this checkout" are the event's. */
export type PoolEffect =
  /** Hand an idle worker to this checkout. */
  | { readonly type: 'lend_idle' }
  /** This checkout waits (with its timeout and signal) at the back of the queue. */
  | { readonly type: 'wait' }
  /** Refuse this checkout. */
  | { readonly type: 'refuse'; readonly reason: 'full' | 'stopped' }
  /** Hand this worker to the oldest waiting checkout. */
  | { readonly type: 'serve_waiter' }
  | { readonly type: 'keep_idle' }
  /** Destroy this worker (dismissed, dead, or arriving after the stop). */
  | { readonly type: 'dismiss' }
  /** Start `count` creations. */
  | { readonly type: 'create'; readonly count: number }
  /** The oldest waiting checkout gets this creation's error. */
  | { readonly type: 'fail_waiter'; readonly error: unknown }
  /** Arm a retry timer for a random delay in [0, ceilingMs] (full jitter). */
  | { readonly type: 'schedule_retry'; readonly ceilingMs: number }
  /** Disarm `count` retry timers (every one when `count` is Infinity). */
  | { readonly type: 'cancel_retries'; readonly count: number }
  /** Destroy `count` idle workers, the longest idle first. */
  | { readonly type: 'dismiss_idle'; readonly count: number }
  /** Every waiting checkout is refused with `PoolStoppedError`. */
  | { readonly type: 'refuse_waiters' }
  /** Destroy every worker; checked-out leases are revoked. */
  | { readonly type: 'retire_all' }
  /** Draining is over (every lease came back): stop now. */
  | { readonly type: 'drained' };

/** The result of {@link transition}. */
export interface PoolTransition {
  readonly state: PoolState;
  readonly effects: readonly PoolEffect[];
}

/** The longest a failing base worker waits, before jitter, until its creation is tried again. */
export const maxRetryBackoffMs = 30_000;

/** A pool about to start: nothing created yet. */
export function initialPoolState(size: number, maxOverflow: number, retryBackoffMs: number): PoolState {
  return { phase: 'running', size, maxOverflow, retryBackoffMs, idle: 0, checkedOut: 0, overflow: 0, creating: 0, retrying: 0, waiting: 0, failures: 0 };
}

// Effects without data are shared constants, so the hot path allocates no effect list.
const LEND_IDLE: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'lend_idle' as const })]);
const WAIT: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'wait' as const })]);
const WAIT_AND_CREATE: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'wait' as const }), Object.freeze({ type: 'create' as const, count: 1 })]);
const REFUSE_FULL: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'refuse' as const, reason: 'full' as const })]);
const REFUSE_STOPPED: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'refuse' as const, reason: 'stopped' as const })]);
const SERVE_WAITER: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'serve_waiter' as const })]);
const KEEP_IDLE: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'keep_idle' as const })]);
const DISMISS: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'dismiss' as const })]);
const DISMISS_AND_STOP: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'dismiss' as const }), Object.freeze({ type: 'drained' as const })]);
const DISMISS_AND_REPLACE: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'dismiss' as const }), Object.freeze({ type: 'create' as const, count: 1 })]);
const CREATE_ONE: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'create' as const, count: 1 })]);
const DRAINED: readonly PoolEffect[] = Object.freeze([Object.freeze({ type: 'drained' as const })]);
const NOTHING: readonly PoolEffect[] = Object.freeze([]);

/**
 * The pool's one transition: the new counts and what the shell must do. Pure; never throws.
 *
 * Hot path (bench/pool.bench.ts, pool.checkout_release): a checkout with an idle worker and a
 * checkin with no one waiting allocate the new state only.
 */
export function transition(state: PoolState, event: PoolEvent): PoolTransition {
  switch (event.type) {
    case 'checkout':
      return checkout(state, event.mode);
    case 'checkin':
      return checkin(state);
    case 'withdraw':
      return withdraw(state);
    case 'worker_exit':
      return event.where === 'out' ? checkedOutWorkerExited(state) : idleWorkerExited(state);
    case 'created':
      return created(state);
    case 'creation_failed':
      return creationFailed(state, event.error);
    case 'retry_due':
      return retryDue(state);
    case 'start':
      return start(state);
    case 'reconfigure':
      return reconfigure(state, event.size, event.maxOverflow, event.retryBackoffMs);
    case 'drain':
      return drain(state);
    case 'stop':
      return stop(state);
  }
}

/** poolboy's status name, from its counts; a stopped pool hands nothing out, so it is `full` with every count at zero. */
export function poolStatus(state: PoolState): { state: 'ready' | 'overflow' | 'full'; idle: number; overflow: number; checkedOut: number; waiting: number } {
  if (state.phase === 'stopped') return { state: 'full', idle: 0, overflow: 0, checkedOut: 0, waiting: 0 };
  const { idle, overflow, maxOverflow } = state;
  let name: 'ready' | 'overflow' | 'full';
  if (overflow < 1) name = idle === 0 ? (maxOverflow < 1 ? 'full' : 'overflow') : 'ready';
  else name = overflow >= maxOverflow ? 'full' : 'overflow';
  return { state: name, idle, overflow, checkedOut: state.checkedOut, waiting: queuedCheckouts(state) };
}

/** Checkouts queued in poolboy's sense: waiting with no creation on its way for them. */
export function queuedCheckouts(state: PoolState): number {
  return Math.max(0, state.waiting - state.creating);
}

/** A state being built by a clause; the clause returns it, and never changes the state it was given. */
type Draft = { -readonly [K in keyof PoolState]: PoolState[K] };

/**
 * A copy of `state` for a clause to change. Every state is built by this one literal, so all
 * share one shape: V8 (Node 20) makes a spread with overridden keys (`{ ...state, idle }`) some
 * fifty times slower, and the clauses run on the hot path.
 */
function draft(state: PoolState): Draft {
  return {
    phase: state.phase,
    size: state.size,
    maxOverflow: state.maxOverflow,
    retryBackoffMs: state.retryBackoffMs,
    idle: state.idle,
    checkedOut: state.checkedOut,
    overflow: state.overflow,
    creating: state.creating,
    retrying: state.retrying,
    waiting: state.waiting,
    failures: state.failures,
  };
}

// ---------------------------------------------------------------- poolboy's clauses

/** handle_checkout: an idle worker; else a creation already on its way; else an overflow worker; else full, or queued. */
function checkout(state: PoolState, mode: 'block' | 'no_block' | 'idle_only'): PoolTransition {
  if (state.phase !== 'running') return { state, effects: mode === 'idle_only' ? NOTHING : REFUSE_STOPPED };
  const next = draft(state);
  if (state.idle > 0) {
    next.idle -= 1;
    next.checkedOut += 1;
    return { state: next, effects: LEND_IDLE };
  }
  if (mode === 'idle_only') return { state, effects: NOTHING };
  if (state.waiting < state.creating) {
    next.waiting += 1;
    return { state: next, effects: WAIT };
  }
  if (state.overflow < state.maxOverflow) {
    next.overflow += 1;
    next.creating += 1;
    next.waiting += 1;
    return { state: next, effects: WAIT_AND_CREATE };
  }
  if (mode === 'no_block') return { state, effects: REFUSE_FULL };
  next.waiting += 1;
  return { state: next, effects: WAIT };
}

/** A waiting checkout gave up: it leaves the queue; whatever was on its way for it serves the next one. */
function withdraw(state: PoolState): PoolTransition {
  if (state.waiting === 0) return { state, effects: NOTHING };
  const next = draft(state);
  next.waiting -= 1;
  return { state: next, effects: NOTHING };
}

/** handle_checkin. */
function checkin(state: PoolState): PoolTransition {
  if (state.phase === 'stopped') return { state, effects: NOTHING };
  const next = draft(state);
  next.checkedOut -= 1;
  return state.phase === 'draining' ? dismissWhileDraining(next) : place(next);
}

/** A worker came free (`next` counts it nowhere yet): the oldest waiter gets it, else it is dismissed while overflowing, else it goes idle. */
function place(next: Draft): PoolTransition {
  if (next.waiting > 0) {
    next.waiting -= 1;
    next.checkedOut += 1;
    return { state: next, effects: SERVE_WAITER };
  }
  if (next.overflow > 0) {
    next.overflow -= 1;
    return { state: next, effects: DISMISS };
  }
  next.idle += 1;
  return { state: next, effects: KEEP_IDLE };
}

/** While draining a free worker is destroyed, and the pool stops once the last lease is back. */
function dismissWhileDraining(next: Draft): PoolTransition {
  if (next.overflow > 0) next.overflow -= 1;
  return { state: next, effects: next.checkedOut === 0 ? DISMISS_AND_STOP : DISMISS };
}

/**
 * handle_worker_exit: replaced for the first waiter (when no creation is already on its way for
 * it), else not replaced while overflowing, else replaced into idle.
 */
function checkedOutWorkerExited(state: PoolState): PoolTransition {
  if (state.phase === 'stopped') return { state, effects: NOTHING };
  const next = draft(state);
  next.checkedOut -= 1;
  if (state.phase === 'draining') return dismissWhileDraining(next);
  if (next.waiting <= next.creating && next.overflow > 0) {
    next.overflow -= 1;
    return { state: next, effects: DISMISS };
  }
  next.creating += 1;
  return { state: next, effects: DISMISS_AND_REPLACE };
}

/** An idle worker died: poolboy replaces it. */
function idleWorkerExited(state: PoolState): PoolTransition {
  if (state.phase !== 'running') return { state, effects: DISMISS };
  const next = draft(state);
  next.idle -= 1;
  next.creating += 1;
  return { state: next, effects: DISMISS_AND_REPLACE };
}

function created(state: PoolState): PoolTransition {
  const next = draft(state);
  next.creating -= 1;
  if (state.phase === 'stopped') return { state: next, effects: DISMISS };
  if (state.phase === 'draining') return dismissWhileDraining(next);
  next.failures = 0;
  return place(next);
}

/**
 * A creation failed: the oldest waiter gets the error (it is the one the creation was for, or
 * takes its place); the place is given up while overflowing, else kept and retried after a
 * jittered backoff. Overflow room that frees serves the waiters still queued.
 */
function creationFailed(state: PoolState, error: unknown): PoolTransition {
  const next = draft(state);
  next.creating -= 1;
  if (state.phase === 'stopped') return { state: next, effects: NOTHING };
  if (state.phase === 'draining') {
    if (next.overflow > 0) next.overflow -= 1;
    return { state: next, effects: next.checkedOut === 0 ? DRAINED : NOTHING };
  }
  const effects: PoolEffect[] = [];
  next.failures += 1;
  if (next.waiting > 0) {
    next.waiting -= 1;
    effects.push({ type: 'fail_waiter', error });
  }
  if (next.overflow > 0) {
    next.overflow -= 1;
  } else {
    next.retrying += 1;
    effects.push({ type: 'schedule_retry', ceilingMs: retryCeilingMs(next.retryBackoffMs, next.failures) });
  }
  coverWaiters(next, effects);
  return { state: next, effects };
}

function retryDue(state: PoolState): PoolTransition {
  if (state.phase !== 'running' || state.retrying === 0) return { state, effects: NOTHING };
  const next = draft(state);
  next.retrying -= 1;
  next.creating += 1;
  return { state: next, effects: CREATE_ONE };
}

function start(state: PoolState): PoolTransition {
  if (state.phase !== 'running' || state.size === 0) return { state, effects: NOTHING };
  const next = draft(state);
  next.creating += state.size;
  return { state: next, effects: [{ type: 'create', count: state.size }] };
}

/**
 * New limits, live: a larger size turns overflow workers into base workers and creates the rest;
 * a smaller one dismisses idle workers, then drops pending retries, and lets the rest leave as
 * overflow workers when they come back. Waiters are served if the new limits allow.
 */
function reconfigure(state: PoolState, size: number, maxOverflow: number, retryBackoffMs: number): PoolTransition {
  const next = draft(state);
  next.size = size;
  next.maxOverflow = maxOverflow;
  next.retryBackoffMs = retryBackoffMs;
  if (state.phase !== 'running') return { state: next, effects: NOTHING };
  const effects: PoolEffect[] = [];
  const growth = size - state.size;
  // Stryker disable next-line EqualityOperator: with growth 0 the branch promotes and creates nothing, as skipping it does
  if (growth > 0) {
    const promoted = Math.min(next.overflow, growth);
    const fresh = growth - promoted;
    next.overflow -= promoted;
    next.creating += fresh;
    if (fresh > 0) effects.push({ type: 'create', count: fresh });
    // Stryker disable next-line ConditionalExpression,EqualityOperator: with growth 0 the branch dismisses, cancels and adds nothing
  } else if (growth < 0) {
    const fromIdle = Math.min(next.idle, -growth);
    const fromRetries = Math.min(next.retrying, -growth - fromIdle);
    next.idle -= fromIdle;
    next.retrying -= fromRetries;
    next.overflow += -growth - fromIdle - fromRetries;
    if (fromIdle > 0) effects.push({ type: 'dismiss_idle', count: fromIdle });
    if (fromRetries > 0) effects.push({ type: 'cancel_retries', count: fromRetries });
  }
  coverWaiters(next, effects);
  return { state: next, effects };
}

/** No checkout stays queued while overflow room is left: start a creation for each one it allows. */
function coverWaiters(next: Draft, effects: PoolEffect[]): void {
  const count = Math.min(next.waiting - next.creating, next.maxOverflow - next.overflow);
  if (count <= 0) return;
  next.overflow += count;
  next.creating += count;
  effects.push({ type: 'create', count });
}

/** Graceful stop: no new checkouts, waiters refused, idle workers dismissed, retries dropped; stop once every lease is back. */
function drain(state: PoolState): PoolTransition {
  if (state.phase !== 'running') return { state, effects: NOTHING };
  const effects: PoolEffect[] = [{ type: 'refuse_waiters' }, { type: 'dismiss_idle', count: state.idle }, { type: 'cancel_retries', count: Number.POSITIVE_INFINITY }];
  if (state.checkedOut === 0) effects.push({ type: 'drained' });
  const next = draft(state);
  next.phase = 'draining';
  next.idle = 0;
  next.waiting = 0;
  next.retrying = 0;
  return { state: next, effects };
}

function stop(state: PoolState): PoolTransition {
  if (state.phase === 'stopped') return { state, effects: NOTHING };
  const next = draft(state);
  next.phase = 'stopped';
  next.idle = 0;
  next.checkedOut = 0;
  next.overflow = 0;
  next.waiting = 0;
  next.retrying = 0;
  return { state: next, effects: [{ type: 'refuse_waiters' }, { type: 'cancel_retries', count: Number.POSITIVE_INFINITY }, { type: 'retire_all' }] };
}

/** The backoff ceiling after `failures` consecutive failures: `retryBackoffMs · 2^(failures − 1)`, at most {@link maxRetryBackoffMs}. */
export function retryCeilingMs(retryBackoffMs: number, failures: number): number {
  return Math.min(maxRetryBackoffMs, retryBackoffMs * 2 ** Math.max(0, failures - 1));
}
