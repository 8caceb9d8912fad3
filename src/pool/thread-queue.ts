/**
 * The thread pool's accounting: which tasks wait, which thread runs which task, which threads are
 * starting, idle or being ended, and what the pool does when a thread starts, finishes a task or
 * dies. One transition function, {@link stepThreadQueue}, changes it; it performs no I/O, starts no
 * timer and reads no clock, but returns the effects for the shell (`thread-pool.ts`) to perform:
 * send a task to a thread, start or end a thread, arm a timer, settle a task. The shell feeds back
 * what happened as events. The model-based spec (spec/property/thread-queue.property.spec.ts)
 * drives it through every interleaving.
 *
 * The rules it keeps:
 * - A task runs only on a thread that has loaded its module and runs nothing else; tasks start in
 *   submission order.
 * - At most `maxQueue` tasks wait beyond the threads already starting for them; one more is
 *   refused at once and never runs.
 * - Threads are started for `minThreads` and for waiting tasks, never more than `maxThreads`
 *   (counting threads still being ended). A thread that dies while starting arms a backoff before
 *   any other start; until a thread starts again, one thread at a time probes; after
 *   `maxStartFailures` such deaths in a row the pool fails and rejects everything it holds.
 * - Every task is settled exactly once: by its own outcome, its thread's death, its abort, a
 *   refusal, or the pool stopping or failing.
 *
 * The state is updated in place (the transition is `(state, event) → effects` over a state the
 * caller owns) rather than copied: the waiting queue can hold many thousand tasks, and copying it
 * on every event would make each event cost O(tasks). For the same reason of cost the hot path
 * keeps tasks out of hash tables: a long-lived Map or Set that gains and loses a fresh key per task
 * rehashes its old-generation table over and over (~1 µs a task, measured); a running task is
 * found through its thread instead, and the waiting queue is an array.
 */

/**
 * Tasks waiting for a thread, oldest first: an array read from a moving head, so that queueing and
 * taking a task touch no hash table. A withdrawn task (aborted while waiting) is left in place and
 * skipped when its turn comes; only withdrawals use a Set. Compacted once the consumed head is
 * more than half of the array.
 */
export class WaitingTasks<Task> implements Iterable<Task> {
  private items: Array<Task | undefined> = [];
  private head = 0;
  private readonly withdrawn = new Set<Task>();
  /** Tasks waiting, withdrawn ones not counted. */
  size = 0;

  add(task: Task): void {
    this.items.push(task);
    this.size += 1;
  }

  /** Takes the oldest waiting task; `undefined` when none waits. */
  take(): Task | undefined {
    while (this.head < this.items.length) {
      const task = this.items[this.head] as Task;
      this.items[this.head] = undefined;
      this.head += 1;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the size check only skips a hash lookup; deleting from an empty Set returns false just the same
      if (this.withdrawn.size > 0 && this.withdrawn.delete(task)) continue;
      this.size -= 1;
      this.compact();
      return task;
    }
    return undefined;
  }

  /** Withdraws `task`, which must be waiting. */
  withdraw(task: Task): void {
    this.withdrawn.add(task);
    this.size -= 1;
    if (this.size === 0) this.clear();
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.withdrawn.clear();
    this.size = 0;
  }

  *[Symbol.iterator](): Iterator<Task> {
    for (let index = this.head; index < this.items.length; index += 1) {
      const task = this.items[index] as Task;
      if (!this.withdrawn.has(task)) yield task;
    }
  }

  private compact(): void {
    // With none waiting, whatever is left in the array was withdrawn.
    if (this.size === 0) {
      this.clear();
      return;
    }
    if (this.head < 1024 || this.head * 2 < this.items.length) return;
    this.items = this.items.slice(this.head);
    this.head = 0;
  }
}

/** What the accounting enforces: the resolved options of the pool. */
export interface ThreadQueueLimits {
  readonly minThreads: number;
  readonly maxThreads: number;
  /** Tasks that may wait beyond the threads starting for them; `Infinity` for no bound. */
  readonly maxQueue: number;
  /** Start-up deaths in a row after which the pool fails. */
  readonly maxStartFailures: number;
}

/** Where a thread is in its life: loading its module, waiting for a task, running one, or being ended by the pool. */
export type ThreadPhase = 'starting' | 'idle' | 'busy' | 'retiring';

/** What the accounting knows of one thread. */
export interface ThreadSlot<Task> {
  phase: ThreadPhase;
  /** The task it runs, while `busy`. */
  task: Task | undefined;
  /** Identifies the armed idle timer, so a timer from an earlier idle period is ignored. */
  idleEpoch: number;
  idleTimerArmed: boolean;
}

/** `running`; `draining` (no new tasks, running ones finish); `stopped`; `failed` (its threads could not start). */
export type ThreadQueuePhase = 'running' | 'draining' | 'stopped' | 'failed';

/** The accounting of one thread pool; see {@link createThreadQueue}. */
export interface ThreadQueueState<Task, Death> {
  readonly limits: ThreadQueueLimits;
  phase: ThreadQueuePhase;
  /** Tasks waiting for a thread, in submission order. */
  readonly waiting: WaitingTasks<Task>;
  /** Threads in phase `busy`: the tasks running. */
  busy: number;
  /** Every thread that exists, by id, whatever its phase. */
  readonly threads: Map<number, ThreadSlot<Task>>;
  /** Idle threads, the most recently idle last (the next task takes it: warm threads stay warm, cold ones time out). */
  readonly idle: number[];
  /** Threads asked for ({@link ThreadQueueEffect} `startThread`) whose id the shell has not reported yet. */
  spawning: number;
  /** Threads in phase `starting`. */
  starting: number;
  /** Threads in phase `retiring`. */
  retiring: number;
  /** Threads that died while starting since a thread last started. */
  startFailures: number;
  /** A backoff timer is armed: no thread starts until it elapses. */
  backoff: boolean;
  /** What the last thread that died while starting died of. */
  lastStartFailure: Death | undefined;
  idleEpochs: number;
}

/** Why a task is rejected without an outcome of its own. */
export type TaskRefusal = 'full' | 'stopped' | 'aborted';

/** What happened, as the shell reports it. */
export type ThreadQueueEvent<Task, Death> =
  /** `run(task)` was called. */
  | { type: 'submit'; task: Task }
  /**
   * The task's signal aborted; `thread` is the one a `run` effect sent it to, `undefined` while it
   * waits. Sent at most once, and only for a task that has not settled.
   */
  | { type: 'abort'; task: Task; thread: number | undefined }
  /** `thread`, which a `run` effect sent the task to, reported its outcome (a result or its own error). */
  | { type: 'settled'; task: Task; thread: number }
  /** The thread asked for by a `startThread` effect exists and has this id. */
  | { type: 'spawned'; thread: number }
  /** The thread loaded its module and can take tasks. */
  | { type: 'ready'; thread: number }
  /** The thread ended (it died, or the pool ended it); `death` says what it died of. */
  | { type: 'exited'; thread: number; death: Death }
  /** An idle timer armed by `armIdleTimer` fired. */
  | { type: 'idleTimeout'; thread: number; epoch: number }
  /** The backoff timer armed by `armBackoff` fired. */
  | { type: 'backoffElapsed' }
  /** Graceful stop: refuse new tasks, reject waiting ones, let running ones finish. */
  | { type: 'drain' }
  /** Stop now: reject every task. */
  | { type: 'stop' };

/** What the shell must do, in order. */
export type ThreadQueueEffect<Task, Death> =
  /** Send `task` to `thread` (idle, loaded). */
  | { type: 'run'; task: Task; thread: number }
  /** Settle `task` with the outcome its thread reported. */
  | { type: 'deliver'; task: Task }
  /** Reject `task`; it will not run (or, for `stopped` and `aborted`, not run on). */
  | { type: 'reject'; task: Task; reason: TaskRefusal }
  /** Reject `task`: no thread could start to run it. */
  | { type: 'startFailed'; task: Task; death: Death }
  /** `task`'s thread died under it. */
  | { type: 'crashed'; task: Task; death: Death }
  /** Start one thread, then report it with `spawned`. */
  | { type: 'startThread' }
  /** End `thread` (idle too long, or its task was aborted); it reports `exited` when gone. */
  | { type: 'endThread'; thread: number }
  | { type: 'armIdleTimer'; thread: number; epoch: number }
  | { type: 'cancelIdleTimer'; thread: number }
  /** Arm the backoff timer after `failures` start-up deaths in a row, replacing one already armed; report `backoffElapsed`. */
  | { type: 'armBackoff'; failures: number }
  /** A thread died that the pool did not end, while starting, idle or running a task. */
  | { type: 'threadLost'; thread: number; during: 'startup' | 'idle' | 'task'; death: Death }
  /** Threads could not start `maxStartFailures` times in a row: end every thread, fail the pool. */
  | { type: 'failed'; death: Death }
  /** The pool has stopped (or finished draining): end every thread. */
  | { type: 'stopped' };

const noEffects: readonly never[] = Object.freeze([]);

/** A fresh accounting, and the effects that start its first `minThreads` threads. */
export function createThreadQueue<Task, Death>(limits: ThreadQueueLimits): { state: ThreadQueueState<Task, Death>; effects: Array<ThreadQueueEffect<Task, Death>> } {
  const state: ThreadQueueState<Task, Death> = {
    limits,
    phase: 'running',
    waiting: new WaitingTasks(),
    busy: 0,
    threads: new Map(),
    idle: [],
    spawning: 0,
    starting: 0,
    retiring: 0,
    startFailures: 0,
    backoff: false,
    lastStartFailure: undefined,
    idleEpochs: 0,
  };
  const effects: Array<ThreadQueueEffect<Task, Death>> = [];
  startThreads(state, effects);
  return { state, effects };
}

/**
 * Applies `event` to `state` (in place) and returns the effects to perform, in order.
 *
 * Hot path (bench/pool.bench.ts, `thread.run@*`): `submit` with an idle thread, and `settled`.
 */
export function stepThreadQueue<Task, Death>(
  state: ThreadQueueState<Task, Death>,
  event: ThreadQueueEvent<Task, Death>,
): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  switch (event.type) {
    case 'submit':
      return submit(state, event.task);
    case 'settled':
      return settled(state, event.task, event.thread);
    case 'abort':
      return abort(state, event.task, event.thread);
    case 'spawned':
      return spawned(state, event.thread);
    case 'ready':
      return ready(state, event.thread);
    case 'exited':
      return exited(state, event.thread, event.death);
    case 'idleTimeout':
      return idleTimeout(state, event.thread, event.epoch);
    case 'backoffElapsed':
      return backoffElapsed(state);
    case 'drain':
      return drain(state);
    case 'stop':
      return stop(state);
  }
}

// ---------------------------------------------------------------- counts

/** Threads that exist or are being started, in any phase: piscina holds a slot for each. */
function allThreads(state: ThreadQueueState<unknown, unknown>): number {
  return state.threads.size + state.spawning;
}

/** Threads on their way: asked for or loading. */
function comingThreads(state: ThreadQueueState<unknown, unknown>): number {
  return state.starting + state.spawning;
}

/** Threads that loaded their module and are not being ended. */
function loadedThreads(state: ThreadQueueState<unknown, unknown>): number {
  // Stryker disable next-line ArithmeticOperator: only compared with 0, and idle threads exist only while nothing waits (then the result is unused), so idle − busy is 0 exactly when idle + busy is
  return state.idle.length + state.busy;
}

/** How many more threads may be started right now. */
function startHeadroom(state: ThreadQueueState<unknown, unknown>): number {
  if (state.phase !== 'running' || state.backoff) return 0;
  const room = state.limits.maxThreads - allThreads(state);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: room is never below 0, and at 0 with start-up failures a probe is always still coming (a start-up death frees a slot; only a start refills it, and its ready resets the failures), so both branches give 0
  if (room <= 0) return 0;
  // After a start-up death, one thread at a time finds out whether threads can start again.
  if (state.startFailures > 0) return comingThreads(state) === 0 ? 1 : 0;
  return room;
}

// ---------------------------------------------------------------- events

function submit<Task, Death>(state: ThreadQueueState<Task, Death>, task: Task): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  if (state.phase === 'failed') return [{ type: 'startFailed', task, death: state.lastStartFailure as Death }];
  if (state.phase !== 'running') return [{ type: 'reject', task, reason: 'stopped' }];
  const thread = state.idle.pop();
  if (thread !== undefined) {
    // Hot path: an idle thread means nothing waits (tasks are handed to threads as soon as they free).
    const effects: Array<ThreadQueueEffect<Task, Death>> = [];
    runOn(state, thread, task, effects);
    return effects;
  }
  // Waiting beyond the threads coming for them (those starting, and those that may start now).
  if (state.waiting.size - comingThreads(state) - startHeadroom(state) >= state.limits.maxQueue) {
    return [{ type: 'reject', task, reason: 'full' }];
  }
  state.waiting.add(task);
  const effects: Array<ThreadQueueEffect<Task, Death>> = [];
  startThreads(state, effects);
  return effects;
}

function settled<Task, Death>(state: ThreadQueueState<Task, Death>, task: Task, thread: number): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  const slot = state.threads.get(thread);
  // Already settled otherwise (aborted, its thread died, the pool stopped): its outcome is dropped.
  if (slot === undefined || slot.phase !== 'busy' || slot.task !== task) return noEffects;
  state.busy -= 1;
  const effects: Array<ThreadQueueEffect<Task, Death>> = [{ type: 'deliver', task }];
  threadFree(state, thread, slot, effects);
  finishDraining(state, effects);
  return effects;
}

function abort<Task, Death>(state: ThreadQueueState<Task, Death>, task: Task, thread: number | undefined): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  if (state.phase === 'stopped' || state.phase === 'failed') return noEffects;
  if (thread === undefined) {
    // Never sent to a thread and not settled (the shell aborts only such tasks): it waits.
    state.waiting.withdraw(task);
    return [{ type: 'reject', task, reason: 'aborted' }];
  }
  const slot = state.threads.get(thread);
  // Settled meanwhile, or its thread died under it: nothing to withdraw.
  if (slot === undefined || slot.phase !== 'busy' || slot.task !== task) return noEffects;
  state.busy -= 1;
  // The thread is ended under the task; it keeps its slot until it has exited. It is replaced at
  // once when another slot is free, else once it has exited.
  slot.phase = 'retiring';
  slot.task = undefined;
  state.retiring += 1;
  const effects: Array<ThreadQueueEffect<Task, Death>> = [
    { type: 'reject', task, reason: 'aborted' },
    { type: 'endThread', thread },
  ];
  startThreads(state, effects);
  finishDraining(state, effects);
  return effects;
}

function spawned<Task, Death>(state: ThreadQueueState<Task, Death>, thread: number): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  if (state.spawning === 0 || state.threads.has(thread)) return noEffects;
  state.spawning -= 1;
  state.starting += 1;
  state.threads.set(thread, { phase: 'starting', task: undefined, idleEpoch: 0, idleTimerArmed: false });
  return noEffects;
}

function ready<Task, Death>(state: ThreadQueueState<Task, Death>, thread: number): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  const slot = state.threads.get(thread);
  if (slot === undefined || slot.phase !== 'starting') return noEffects;
  state.starting -= 1;
  state.startFailures = 0;
  const effects: Array<ThreadQueueEffect<Task, Death>> = [];
  threadFree(state, thread, slot, effects);
  // A probe that started ends the backoff regime: start what the minimum and the queue need.
  startThreads(state, effects);
  return effects;
}

function exited<Task, Death>(state: ThreadQueueState<Task, Death>, thread: number, death: Death): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  const slot = state.threads.get(thread);
  if (slot === undefined) return noEffects;
  state.threads.delete(thread);
  const effects: Array<ThreadQueueEffect<Task, Death>> = [];
  switch (slot.phase) {
    case 'retiring':
      state.retiring -= 1;
      break;
    case 'idle':
      state.idle.splice(state.idle.indexOf(thread), 1);
      if (slot.idleTimerArmed) effects.push({ type: 'cancelIdleTimer', thread });
      effects.push({ type: 'threadLost', thread, during: 'idle', death });
      break;
    case 'busy': {
      const task = slot.task as Task;
      state.busy -= 1;
      effects.push({ type: 'threadLost', thread, during: 'task', death }, { type: 'crashed', task, death });
      break;
    }
    case 'starting':
      state.starting -= 1;
      effects.push({ type: 'threadLost', thread, during: 'startup', death });
      startupDeath(state, death, effects);
      break;
  }
  startThreads(state, effects);
  finishDraining(state, effects);
  return effects;
}

function idleTimeout<Task, Death>(state: ThreadQueueState<Task, Death>, thread: number, epoch: number): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  const slot = state.threads.get(thread);
  if (slot === undefined || slot.phase !== 'idle' || !slot.idleTimerArmed || slot.idleEpoch !== epoch) return noEffects;
  slot.idleTimerArmed = false;
  if (state.phase !== 'running' || allThreads(state) - state.retiring <= state.limits.minThreads) return noEffects;
  state.idle.splice(state.idle.indexOf(thread), 1);
  slot.phase = 'retiring';
  state.retiring += 1;
  return [{ type: 'endThread', thread }];
}

function backoffElapsed<Task, Death>(state: ThreadQueueState<Task, Death>): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  // Stryker disable next-line ConditionalExpression: every other event leaves startThreads at its fixed point, so without a backoff the extra call starts nothing and returns no effects
  if (!state.backoff) return noEffects;
  state.backoff = false;
  const effects: Array<ThreadQueueEffect<Task, Death>> = [];
  startThreads(state, effects);
  return effects;
}

function drain<Task, Death>(state: ThreadQueueState<Task, Death>): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  if (state.phase !== 'running') return noEffects;
  state.phase = 'draining';
  const effects: Array<ThreadQueueEffect<Task, Death>> = [];
  rejectWaiting(state, effects);
  finishDraining(state, effects);
  return effects;
}

function stop<Task, Death>(state: ThreadQueueState<Task, Death>): ReadonlyArray<ThreadQueueEffect<Task, Death>> {
  if (state.phase === 'stopped' || state.phase === 'failed') return noEffects;
  const effects: Array<ThreadQueueEffect<Task, Death>> = [];
  rejectWaiting(state, effects);
  rejectRunning(state, effects);
  end(state, 'stopped');
  effects.push({ type: 'stopped' });
  return effects;
}

// ---------------------------------------------------------------- rules

/** Puts `task` on `thread`, an idle thread already taken off the idle list. */
function runOn<Task, Death>(state: ThreadQueueState<Task, Death>, thread: number, task: Task, effects: Array<ThreadQueueEffect<Task, Death>>): void {
  const slot = state.threads.get(thread)!;
  if (slot.idleTimerArmed) {
    slot.idleTimerArmed = false;
    effects.push({ type: 'cancelIdleTimer', thread });
  }
  slot.phase = 'busy';
  slot.task = task;
  state.busy += 1;
  effects.push({ type: 'run', task, thread });
}

/** A thread has nothing to run: it takes the oldest waiting task, or idles (with a timer while above `minThreads`). */
function threadFree<Task, Death>(state: ThreadQueueState<Task, Death>, thread: number, slot: ThreadSlot<Task>, effects: Array<ThreadQueueEffect<Task, Death>>): void {
  slot.phase = 'idle';
  slot.task = undefined;
  if (state.waiting.size > 0) {
    runOn(state, thread, state.waiting.take() as Task, effects);
    return;
  }
  state.idle.push(thread);
  if (state.phase === 'running' && allThreads(state) - state.retiring > state.limits.minThreads) {
    state.idleEpochs += 1;
    slot.idleEpoch = state.idleEpochs;
    slot.idleTimerArmed = true;
    effects.push({ type: 'armIdleTimer', thread, epoch: slot.idleEpoch });
  }
}

/** Starts threads while fewer than `minThreads` exist or tasks wait beyond the threads coming for them. */
function startThreads<Task, Death>(state: ThreadQueueState<Task, Death>, effects: Array<ThreadQueueEffect<Task, Death>>): void {
  for (let headroom = startHeadroom(state); headroom > 0; headroom = startHeadroom(state)) {
    const belowMinimum = allThreads(state) - state.retiring < state.limits.minThreads;
    const uncovered = state.waiting.size > comingThreads(state);
    if (!belowMinimum && !uncovered) return;
    state.spawning += 1;
    effects.push({ type: 'startThread' });
  }
}

/** A thread died while loading its module: back off, reject the tasks nobody can run, or give up. */
function startupDeath<Task, Death>(state: ThreadQueueState<Task, Death>, death: Death, effects: Array<ThreadQueueEffect<Task, Death>>): void {
  if (state.phase !== 'running') return;
  state.startFailures += 1;
  state.lastStartFailure = death;
  if (state.startFailures >= state.limits.maxStartFailures) {
    for (const task of state.waiting) effects.push({ type: 'startFailed', task, death });
    state.waiting.clear();
    rejectRunning(state, effects);
    end(state, 'failed');
    effects.push({ type: 'failed', death });
    return;
  }
  // With no thread loaded and none coming, the waiting tasks fail now instead of waiting out the backoff.
  if (loadedThreads(state) === 0 && comingThreads(state) === 0) {
    for (const task of state.waiting) effects.push({ type: 'startFailed', task, death });
    state.waiting.clear();
  }
  state.backoff = true;
  effects.push({ type: 'armBackoff', failures: state.startFailures });
}

function rejectWaiting<Task, Death>(state: ThreadQueueState<Task, Death>, effects: Array<ThreadQueueEffect<Task, Death>>): void {
  for (const task of state.waiting) effects.push({ type: 'reject', task, reason: 'stopped' });
  state.waiting.clear();
}

function rejectRunning<Task, Death>(state: ThreadQueueState<Task, Death>, effects: Array<ThreadQueueEffect<Task, Death>>): void {
  for (const slot of state.threads.values()) {
    if (slot.phase === 'busy') effects.push({ type: 'reject', task: slot.task as Task, reason: 'stopped' });
  }
}

/** A draining pool stops once its last running task has settled. */
function finishDraining<Task, Death>(state: ThreadQueueState<Task, Death>, effects: Array<ThreadQueueEffect<Task, Death>>): void {
  if (state.phase !== 'draining' || state.busy > 0) return;
  end(state, 'stopped');
  effects.push({ type: 'stopped' });
}

/** Forgets every thread and task: the shell ends the threads and cancels the timers. */
function end(state: ThreadQueueState<unknown, unknown>, phase: 'stopped' | 'failed'): void {
  state.phase = phase;
  state.waiting.clear();
  state.busy = 0;
  state.threads.clear();
  state.idle.length = 0;
  state.spawning = 0;
  state.starting = 0;
  state.retiring = 0;
  state.backoff = false;
}
