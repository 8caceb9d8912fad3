/**
 * A pure model of the breaker rules (fuse tolerance, one reset timer, half-open probes, call
 * timeouts, reset/disable/enable) for the model-based property spec. Time is a number; timers are
 * a list processed in due order, ties in the order they were set, as the test clock does.
 */
export type ModelState = 'closed' | 'open' | 'half_open' | 'disabled';

export interface BreakerModelConfig {
  failures: number;
  windowMs: number;
  resetMs: number;
  probes: number;
  callTimeoutMs: number;
}

interface SlowCall {
  due: number;
  order: number;
  probe: boolean;
  spell: number;
  settled: boolean;
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
}

export function createBreakerModel(config: BreakerModelConfig): BreakerModel {
  return {
    config,
    state: 'closed',
    now: 0,
    failures: [],
    probeSuccesses: 0,
    probesInFlight: 0,
    spell: 0,
    reset: undefined,
    slowCalls: [],
    order: 0,
  };
}

function enter(model: BreakerModel, state: ModelState): void {
  if (state !== 'open') model.reset = undefined;
  if (state === 'open') model.reset = { due: model.now + model.config.resetMs, order: model.order++ };
  if (state === 'half_open') {
    model.spell += 1;
    model.probeSuccesses = 0;
  }
  if (state === 'closed') model.failures = [];
  model.state = state;
}

function closedFailure(model: BreakerModel): void {
  if (model.state !== 'closed') return;
  model.failures = model.failures.filter((time) => model.now - time < model.config.windowMs);
  model.failures.push(model.now);
  if (model.failures.length > model.config.failures) enter(model, 'open');
}

/** A probe settles: it frees its slot whatever spell admitted it; only the current spell's probes count. */
function probeOutcome(model: BreakerModel, spell: number, succeeded: boolean): void {
  model.probesInFlight -= 1;
  if (spell !== model.spell || model.state !== 'half_open') return;
  if (!succeeded) return enter(model, 'open');
  model.probeSuccesses += 1;
  if (model.probeSuccesses >= model.config.probes) enter(model, 'closed');
}

/** What a call does: whether the function runs at all. */
export function call(model: BreakerModel, kind: 'ok' | 'fail' | 'slow'): 'invoked' | 'refused' {
  const probe = model.state === 'half_open';
  if (model.state === 'open' || model.state === 'disabled') return 'refused';
  if (probe && model.probesInFlight >= model.config.probes) return 'refused';
  if (probe) model.probesInFlight += 1;
  if (kind === 'slow') {
    model.slowCalls.push({ due: model.now + model.config.callTimeoutMs, order: model.order++, probe, spell: model.spell, settled: false });
  } else if (probe) {
    probeOutcome(model, model.spell, kind === 'ok');
  } else if (kind === 'fail') {
    closedFailure(model);
  }
  return 'invoked';
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
          if (slow.probe) probeOutcome(model, slow.spell, false);
          else closedFailure(model);
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

export function melt(model: BreakerModel): void {
  if (model.state === 'closed') closedFailure(model);
  else if (model.state === 'half_open') enter(model, 'open');
}

export function reset(model: BreakerModel): void {
  if (model.state === 'disabled') return;
  enter(model, 'closed');
}

export function disable(model: BreakerModel): void {
  enter(model, 'disabled');
}

export function enable(model: BreakerModel): void {
  if (model.state === 'disabled') enter(model, 'closed');
}

/** Timers the real clock must hold: the reset timer (at most one), and one timer for all the slow calls' deadlines. */
export function expectedTimers(model: BreakerModel): number {
  return (model.reset ? 1 : 0) + (model.slowCalls.length > 0 ? 1 : 0);
}
