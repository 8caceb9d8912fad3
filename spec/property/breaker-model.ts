/**
 * A pure model of the breaker rules (fuse tolerance, one reset timer, half-open probes, call
 * timeouts, reset/disable/enable, hot reloads, the stats and `breaker.call` telemetry) for the
 * model-based property spec. Time is a number; timers are a list processed in due order, ties in
 * the order they were set, as the test clock does.
 */
export type ModelState = 'closed' | 'open' | 'half_open' | 'disabled';

export interface BreakerModelConfig {
  failures: number;
  windowMs: number;
  resetMs: number;
  probes: number;
  /** None: a call that never settles holds its place (a probe, its slot) for ever. */
  callTimeoutMs: number | undefined;
  /** Whether the telemetry has a subscriber (closed calls then take the breaker's tracked path). */
  observed: boolean;
}

/**
 * What the function of a call does, and how the breaker must take it:
 * - `ok`, `okSync`: resolves / returns a value: a success.
 * - `fail`, `throws`, `thenThrows`, `thenGetterThrows`: rejects, throws synchronously, returns a
 *   thenable whose `then` throws, or whose `then` getter throws: a failure with that error.
 * - `ignored`: rejects with an error `isFailure` does not count: a success that rejects.
 * - `judgeThrows`: rejects with an error on which `isFailure` throws: a failure that rejects with
 *   what `isFailure` threw.
 * - `neutral`: rejects with an error the call's `neutral` option claims: counts nothing.
 * - `slow`: never settles: a failure at its deadline, pending for ever without a call timeout.
 * - `noFunction`: `call(undefined)`: a TypeError, nothing counted, in every state.
 */
export type CallKind =
  | 'ok'
  | 'okSync'
  | 'fail'
  | 'throws'
  | 'thenThrows'
  | 'thenGetterThrows'
  | 'ignored'
  | 'judgeThrows'
  | 'neutral'
  | 'slow'
  | 'noFunction';

/** How the call settles: 'ok', the error code or message, or 'pending'. */
export const settlement: Record<CallKind, string> = {
  ok: 'ok',
  okSync: 'ok',
  fail: 'upstream failed',
  throws: 'threw synchronously',
  thenThrows: 'then threw',
  thenGetterThrows: 'then getter threw',
  ignored: 'not counted',
  judgeThrows: 'classifier broke',
  neutral: 'local',
  slow: 'pending',
  noFunction: 'ERR_BREAKER_ARGUMENT',
};

type Outcome = 'success' | 'failure' | 'timeout' | 'neutral';

const outcomeOf: Record<Exclude<CallKind, 'slow' | 'noFunction'>, Outcome> = {
  ok: 'success',
  okSync: 'success',
  fail: 'failure',
  throws: 'failure',
  thenThrows: 'failure',
  thenGetterThrows: 'failure',
  ignored: 'success',
  judgeThrows: 'failure',
  neutral: 'neutral',
};

interface SlowCall {
  due: number;
  order: number;
  probe: boolean;
  spell: number;
  settled: boolean;
}

export interface ModelStats {
  successes: number;
  failures: number;
  rejected: number;
  opened: number;
}

export interface BreakerModel {
  readonly config: BreakerModelConfig;
  state: ModelState;
  now: number;
  failures: number[];
  probeSuccesses: number;
  probesInFlight: number;
  spell: number;
  reset: { due: number; order: number } | undefined;
  slowCalls: SlowCall[];
  order: number;
  stats: ModelStats;
  /** `breaker.call` events by outcome (emitted only when observed). */
  events: Record<'success' | 'failure' | 'timeout' | 'rejected', number>;
}

export function createBreakerModel(config: BreakerModelConfig): BreakerModel {
  return {
    config: { ...config },
    state: 'closed',
    now: 0,
    failures: [],
    probeSuccesses: 0,
    probesInFlight: 0,
    spell: 0,
    reset: undefined,
    slowCalls: [],
    order: 0,
    stats: { successes: 0, failures: 0, rejected: 0, opened: 0 },
    events: { success: 0, failure: 0, timeout: 0, rejected: 0 },
  };
}

function enter(model: BreakerModel, state: ModelState): void {
  if (state !== 'open') model.reset = undefined;
  if (state === 'open') {
    model.reset = { due: model.now + model.config.resetMs, order: model.order++ };
    model.stats.opened += 1;
  }
  if (state === 'half_open') {
    model.spell += 1;
    model.probeSuccesses = 0;
  }
  if (state === 'closed') model.failures = [];
  model.state = state;
}

/**
 * fuse: a failure while closed is stamped; more than `failures` inside the window opens it. Only
 * the newest `failures + 1` stamps can change an answer, and only they are held.
 */
function closedFailure(model: BreakerModel): void {
  if (model.state !== 'closed') return;
  model.failures = model.failures.filter((time) => model.now - time < model.config.windowMs);
  model.failures.push(model.now);
  model.failures = newest(model.failures, model.config.failures + 1);
  if (model.failures.length > model.config.failures) enter(model, 'open');
}

function newest(times: number[], count: number): number[] {
  return times.slice(Math.max(0, times.length - count));
}

function count(model: BreakerModel, outcome: Outcome): void {
  if (outcome === 'neutral') return;
  if (outcome === 'success') model.stats.successes += 1;
  else model.stats.failures += 1;
  if (model.config.observed) model.events[outcome] += 1;
}

/** A call admitted in closed settles (whatever the state is by then). */
function closedOutcome(model: BreakerModel, outcome: Outcome): void {
  count(model, outcome);
  if (outcome === 'failure' || outcome === 'timeout') closedFailure(model);
}

/** A probe settles: it frees its slot whatever spell admitted it; only the current spell's probes count. */
function probeOutcome(model: BreakerModel, spell: number, outcome: Outcome): void {
  count(model, outcome);
  model.probesInFlight -= 1;
  if (spell !== model.spell || model.state !== 'half_open' || outcome === 'neutral') return;
  if (outcome !== 'success') return enter(model, 'open');
  model.probeSuccesses += 1;
  if (model.probeSuccesses >= model.config.probes) enter(model, 'closed');
}

/** What a call does: whether the function runs at all. */
export function call(model: BreakerModel, kind: CallKind): 'invoked' | 'refused' | 'invalid' {
  if (kind === 'noFunction') return 'invalid';
  const probe = model.state === 'half_open';
  if (model.state === 'open' || model.state === 'disabled' || (probe && model.probesInFlight >= model.config.probes)) {
    model.stats.rejected += 1;
    if (model.config.observed) model.events.rejected += 1;
    return 'refused';
  }
  if (probe) model.probesInFlight += 1;
  if (kind === 'slow') {
    const timeout = model.config.callTimeoutMs;
    model.slowCalls.push({
      due: timeout === undefined ? Number.POSITIVE_INFINITY : model.now + timeout,
      order: model.order++,
      probe,
      spell: model.spell,
      settled: false,
    });
  } else if (probe) {
    probeOutcome(model, model.spell, outcomeOf[kind]);
  } else {
    closedOutcome(model, outcomeOf[kind]);
  }
  return 'invoked';
}

/** The `retryAfterMs` a refusal made now must carry: the time until the breaker really goes half_open. */
export function retryAfterMs(model: BreakerModel): number {
  if (model.state === 'open') return model.reset!.due - model.now;
  if (model.state === 'half_open') return 0;
  return Number.POSITIVE_INFINITY;
}

export function advance(model: BreakerModel, ms: number): void {
  const target = model.now + ms;
  for (;;) {
    const candidates: Array<{ due: number; order: number; fire: () => void }> = [];
    if (model.reset) candidates.push({ ...model.reset, fire: () => enter(model, 'half_open') });
    for (const slow of model.slowCalls) {
      if (slow.settled) continue;
      candidates.push({
        due: slow.due,
        order: slow.order,
        fire: () => {
          slow.settled = true;
          if (slow.probe) probeOutcome(model, slow.spell, 'timeout');
          else closedOutcome(model, 'timeout');
        },
      });
    }
    candidates.sort((a, b) => a.due - b.due || a.order - b.order);
    const next = candidates[0];
    if (!next || next.due > target) break;
    model.now = next.due;
    next.fire();
  }
  model.now = target;
  model.slowCalls = model.slowCalls.filter((slow) => !slow.settled);
}

/** Every melt counts a failure; closed it is stamped, half-open it reopens, open or disabled nothing more. */
export function melt(model: BreakerModel): void {
  model.stats.failures += 1;
  if (model.state === 'closed') closedFailure(model);
  else if (model.state === 'half_open') enter(model, 'open');
}

export function reset(model: BreakerModel): void {
  if (model.state === 'disabled') return;
  enter(model, 'closed');
}

export function disable(model: BreakerModel): void {
  if (model.state !== 'disabled') enter(model, 'disabled');
}

export function enable(model: BreakerModel): void {
  if (model.state === 'disabled') enter(model, 'closed');
}

/** The options a hot reload may change here. */
export interface ModelReconfiguration {
  resetMs?: number;
  probes?: number;
  tolerance?: { failures: number; windowMs: number };
}

/**
 * A hot reload: nothing moves now. An open breaker keeps its reset time (the new `resetMs` counts
 * from the next opening); counted failures stay counted, as many as the new tolerance can use
 * (its `failures + 1` newest), and are judged by the new window at the next failure; the new
 * `halfOpenProbes` governs admissions and closing from now on.
 */
export function reconfigure(model: BreakerModel, patch: ModelReconfiguration): void {
  if (patch.resetMs !== undefined) model.config.resetMs = patch.resetMs;
  if (patch.probes !== undefined) model.config.probes = patch.probes;
  if (patch.tolerance !== undefined) {
    model.config.failures = patch.tolerance.failures;
    model.config.windowMs = patch.tolerance.windowMs;
    model.failures = newest(model.failures, patch.tolerance.failures + 1);
  }
}

/** Timers the real clock must hold: the reset timer (at most one), and one timer for all the timed calls' deadlines. */
export function expectedTimers(model: BreakerModel): number {
  return (model.reset ? 1 : 0) + (model.slowCalls.some((slow) => slow.due !== Number.POSITIVE_INFINITY) ? 1 : 0);
}
