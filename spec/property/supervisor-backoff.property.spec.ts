import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSupervisorError, startSupervisor, type Backoff, type Restart, type Strategy, type Supervisor } from '../../src/index.js';
import { ChildHarness } from '../support/actors.js';
import { flush, recordTelemetry, type Recorded } from '../support/supervision.js';
import { BackoffModel, type Answer, type ModelBackoff } from './supervisor-backoff-model.js';

// Restart with backoff against a model that predicts the clock time of every start. Delays are
// built from integers and binary fractions (u and randomFactor in {0, 1/4, 1/2, 1}), so the
// supervisor's clock arithmetic and the model's agree to the last bit, and a start is checked at
// exactly the time the model gives.

interface Real {
  supervisor: Supervisor;
  harness: ChildHarness;
  recorded: Recorded;
  added: number;
}

/** The resolved form of a backoff, as the supervisor applies its defaults. */
function modelBackoff(backoff: Backoff | undefined): ModelBackoff | undefined {
  if (backoff === undefined) return undefined;
  return {
    minMs: backoff.minMs,
    maxMs: backoff.maxMs,
    randomFactor: backoff.randomFactor ?? 0.2,
    resetAfterMs: backoff.resetAfterMs ?? (backoff.minMs + backoff.maxMs) / 2,
  };
}

/**
 * After every step: every start happened exactly when the model says (child and clock time, in
 * order), so none happened after a terminate, a stop or the exit; the children, their state,
 * `restarting` and `nextRestartAt` are the model's; the supervisor exited exactly when the model
 * did; one clock timer at most, none once nothing waits.
 */
async function assertMatches(model: BackoffModel, real: Real): Promise<void> {
  await flush();
  const started = real.recorded.named('supervisor.child.started').map((event) => `${String(event.metadata.child)}@${event.time}`);
  expect(started, 'every start, child@time').toEqual(model.starts);
  const exited = await Promise.race([real.supervisor.exited, flush().then(() => undefined)]);
  expect(exited, 'how the supervisor exited').toBe(model.exited);
  expect(
    real.supervisor.whichChildren().map((child) => [child.id, child.ref !== undefined, child.restarting ?? false, child.nextRestartAt]),
  ).toEqual(model.children.map((child) => [child.id, child.running, child.restarting, child.wait?.due]));
  expect(real.recorded.clock.pendingTimers(), 'clock timers').toBe(model.liveWaits().length > 0 ? 1 : 0);
}

type Command = fc.AsyncCommand<BackoffModel, Real>;

const pickFrom = <T>(items: readonly T[], pick: number): T => items[pick % items.length]!;

/** What a request the model answered `expected` settled with on the real supervisor. */
async function expectAnswer(promise: Promise<unknown>, expected: Answer): Promise<void> {
  const answer = await promise.then(
    () => 'ok',
    (error: unknown) => (isSupervisorError(error) ? error.code : `unexpected ${String(error)}`),
  );
  expect(answer).toBe(expected);
}

class ChildExit implements Command {
  constructor(
    readonly pick: number,
    readonly reason: 'normal' | 'error',
  ) {}
  check = (model: BackoffModel) => !model.exited && model.children.some((child) => child.running);
  async run(model: BackoffModel, real: Real) {
    const child = pickFrom(
      model.children.filter((each) => each.running),
      this.pick,
    );
    if (this.reason === 'error') real.harness.crash(child.id);
    else real.harness.finish(child.id);
    model.childExits(child, this.reason);
    await assertMatches(model, real);
  }
  toString = () => `exit(#${this.pick}, ${this.reason})`;
}

class Advance implements Command {
  constructor(readonly ms: number) {}
  // Also after the exit: time going on must start nothing.
  check = () => true;
  async run(model: BackoffModel, real: Real) {
    real.recorded.clock.advance(this.ms);
    model.advance(this.ms);
    await assertMatches(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

class ByHand implements Command {
  constructor(
    readonly request: 'terminateChild' | 'restartChild' | 'deleteChild',
    readonly pick: number,
  ) {}
  check = (model: BackoffModel) => !model.exited && model.children.length > 0;
  async run(model: BackoffModel, real: Real) {
    const { id } = pickFrom(model.children, this.pick);
    const promise = real.supervisor[this.request](id);
    const expected =
      this.request === 'terminateChild' ? model.terminate(id) : this.request === 'restartChild' ? model.restartByHand(id) : model.deleteChild(id);
    await expectAnswer(promise, expected);
    await assertMatches(model, real);
  }
  toString = () => `${this.request}(#${this.pick})`;
}

class FailStarts implements Command {
  constructor(
    readonly pick: number,
    readonly times: number,
  ) {}
  check = (model: BackoffModel) => !model.exited && model.children.length > 0;
  async run(model: BackoffModel, real: Real) {
    const child = pickFrom(model.children, this.pick);
    real.harness.failNextStarts(child.id, this.times);
    model.primeFailures(child, this.times);
    await assertMatches(model, real);
  }
  toString = () => `failNextStarts(#${this.pick}, ${this.times})`;
}

class StartNew implements Command {
  constructor(
    readonly restart: Restart,
    readonly backoff: Backoff | undefined,
  ) {}
  check = (model: BackoffModel) => !model.exited && model.children.length < 7;
  async run(model: BackoffModel, real: Real) {
    real.added += 1;
    const id = `n${real.added}`;
    const spec = real.harness.child(id, { restart: this.restart, ...(this.backoff ? { backoff: this.backoff } : {}) });
    const promise = real.supervisor.startChild(spec);
    await expectAnswer(promise, model.startChild(id, this.restart, modelBackoff(this.backoff) ?? model.defaultBackoff));
    await assertMatches(model, real);
  }
  toString = () => `startChild(${this.restart}, ${JSON.stringify(this.backoff)})`;
}

class Stop implements Command {
  check = (model: BackoffModel) => !model.exited;
  async run(model: BackoffModel, real: Real) {
    await real.supervisor.stop();
    model.stop();
    await assertMatches(model, real);
  }
  toString = () => 'stop()';
}

const binaryFraction = fc.constantFrom(0, 0.25, 0.5, 1);

const backoffArbitrary: fc.Arbitrary<Backoff> = fc
  .record({
    minMs: fc.integer({ min: 1, max: 300 }),
    span: fc.integer({ min: 0, max: 2000 }),
    randomFactor: fc.option(binaryFraction, { nil: undefined }),
    resetAfterMs: fc.option(fc.constantFrom(0, 150, 400, 1000, 5000), { nil: undefined }),
  })
  .map(({ minMs, span, randomFactor, resetAfterMs }) => ({
    minMs,
    maxMs: minMs + span,
    // The default 0.2 is no binary fraction: it is given explicitly as one of these instead.
    randomFactor: randomFactor ?? 0.5,
    ...(resetAfterMs === undefined ? {} : { resetAfterMs }),
  }));

const restartArbitrary = fc.constantFrom<Restart>('permanent', 'permanent', 'transient', 'temporary');
const childPlan = fc.record({ restart: restartArbitrary, backoff: fc.option(backoffArbitrary, { nil: undefined }) });

const commands = [
  fc.tuple(fc.nat(), fc.constantFrom<'normal' | 'error'>('error', 'error', 'error', 'normal')).map(([pick, reason]) => new ChildExit(pick, reason)),
  fc.tuple(fc.nat(), fc.constantFrom<'normal' | 'error'>('error', 'error', 'normal')).map(([pick, reason]) => new ChildExit(pick, reason)),
  // Round steps land restarts exactly on due times and window edges; odd ones fall in between.
  fc.oneof(fc.constantFrom(1, 50, 100, 250, 1000, 5000), fc.integer({ min: 1, max: 3000 })).map((ms) => new Advance(ms)),
  fc.oneof(fc.constantFrom(1, 50, 100, 250, 1000), fc.integer({ min: 1, max: 3000 })).map((ms) => new Advance(ms)),
  fc
    .tuple(fc.constantFrom('terminateChild' as const, 'restartChild' as const, 'restartChild' as const, 'deleteChild' as const), fc.nat())
    .map(([request, pick]) => new ByHand(request, pick)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })).map(([pick, times]) => new FailStarts(pick, times)),
  childPlan.map((plan) => new StartNew(plan.restart, plan.backoff)),
  fc.oneof({ weight: 1, arbitrary: fc.constant(new Stop()) }, { weight: 3, arbitrary: fc.constant(new Advance(10_000)) }),
];

async function runScript(
  strategy: Strategy,
  intensity: number,
  period: number,
  u: number,
  defaultBackoff: Backoff | undefined,
  plans: { restart: Restart; backoff: Backoff | undefined }[],
  script: Iterable<Command>,
): Promise<void> {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const model = new BackoffModel(strategy, intensity, period, u, modelBackoff(defaultBackoff));
  const supervisor = await startSupervisor(
    {
      strategy,
      intensity,
      period,
      ...(defaultBackoff ? { backoff: defaultBackoff } : {}),
      children: plans.map((plan, index) =>
        harness.child(`c${index}`, { restart: plan.restart, ...(plan.backoff ? { backoff: plan.backoff } : {}) }),
      ),
    },
    { clock: recorded.clock, telemetry: recorded.telemetry, random: () => u },
  );
  plans.forEach((plan, index) => model.addInitial(`c${index}`, plan.restart, modelBackoff(plan.backoff) ?? model.defaultBackoff));
  const real: Real = { supervisor, harness, recorded, added: 0 };
  await fc.asyncModelRun(() => ({ model, real }), script);
  await supervisor.stop();
  model.stop();
  // Long after the stop, nothing has started and no timer is left.
  recorded.clock.advance(1_000_000);
  model.advance(1_000_000);
  await assertMatches(model, real);
}

describe('supervisor with restart backoff against the model', () => {
  it('a child starts exactly when the model says and never after terminate or stop; a restart counts against the intensity when it is performed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Strategy>('one_for_one', 'one_for_all', 'rest_for_one'),
        fc.integer({ min: 0, max: 6 }),
        fc.oneof(fc.constantFrom(250, 1000, 5000), fc.integer({ min: 1, max: 5000 })),
        binaryFraction.filter((u) => u < 1),
        fc.option(backoffArbitrary, { nil: undefined }),
        fc.array(childPlan, { minLength: 1, maxLength: 5 }),
        fc.commands(commands, { maxCommands: 40, size: 'max' }),
        runScript,
      ),
      { numRuns: 1000 },
    );
  });
});
