import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  startSupervisor,
  supervisorChild,
  type Backoff,
  supervisorOf,
  type Restart,
  type Strategy,
  type Supervisor,
  type SupervisorSpec,
  type TestClock,
} from '../../src/index.js';
import { ChildHarness } from '../support/actors.js';
import { StartHarness, flush, recordTelemetry, type Recorded, type StartOutcome } from '../support/supervision.js';
import { MailboxModel, type CallState, type MailboxBackoff } from './supervisor-mailbox-model.js';
import {
  addChild,
  childExits,
  createModel,
  deleteChild,
  restartByHand,
  terminate,
  type SupervisorModel,
} from './supervisor-model.js';

interface Real {
  supervisor: Supervisor;
  harness: ChildHarness;
  recorded: Recorded;
  exited: 'running' | 'normal' | 'shutdown';
  added: number;
}

async function exitState(supervisor: Supervisor): Promise<Real['exited']> {
  return Promise.race([supervisor.exited, flush().then(() => 'running' as const)]);
}

/** After every step: the same children in the same order, running alike, started as often; exited alike. */
async function assertMatches(model: SupervisorModel, real: Real): Promise<void> {
  await flush();
  real.exited = await exitState(real.supervisor);
  expect(real.exited === 'shutdown').toBe(model.exited);
  if (model.exited) return;
  const actual = real.supervisor.whichChildren().map((child) => ({ id: child.id, running: child.ref !== undefined }));
  expect(actual).toEqual(model.children.map((child) => ({ id: child.id, running: child.running })));
  for (const child of model.children) expect(real.harness.startCount(child.id)).toBe(child.starts);
}

type Command = fc.AsyncCommand<SupervisorModel, Real>;

const runningChild = (model: SupervisorModel, pick: number) => {
  const running = model.children.filter((child) => child.running);
  return running.length === 0 ? undefined : running[pick % running.length];
};

class ChildExit implements Command {
  constructor(
    readonly pick: number,
    readonly reason: 'normal' | 'error',
  ) {}
  check = (model: SupervisorModel) => !model.exited && runningChild(model, this.pick) !== undefined;
  async run(model: SupervisorModel, real: Real) {
    const child = runningChild(model, this.pick)!;
    if (this.reason === 'error') real.harness.crash(child.id);
    else real.harness.finish(child.id);
    childExits(model, child.id, this.reason);
    await assertMatches(model, real);
  }
  toString = () => `exit(#${this.pick}, ${this.reason})`;
}

class Advance implements Command {
  constructor(readonly ms: number) {}
  check = (model: SupervisorModel) => !model.exited;
  async run(model: SupervisorModel, real: Real) {
    real.recorded.clock.advance(this.ms);
    model.now += this.ms;
    await assertMatches(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

class Terminate implements Command {
  constructor(readonly pick: number) {}
  check = (model: SupervisorModel) => !model.exited && model.children.length > 0;
  async run(model: SupervisorModel, real: Real) {
    const child = model.children[this.pick % model.children.length]!;
    await real.supervisor.terminateChild(child.id);
    terminate(model, child.id);
    await assertMatches(model, real);
  }
  toString = () => `terminateChild(#${this.pick})`;
}

class RestartByHand implements Command {
  constructor(readonly pick: number) {}
  check = (model: SupervisorModel) => !model.exited && model.children.some((child) => !child.running);
  async run(model: SupervisorModel, real: Real) {
    const stopped = model.children.filter((child) => !child.running);
    const child = stopped[this.pick % stopped.length]!;
    await real.supervisor.restartChild(child.id);
    restartByHand(model, child.id);
    await assertMatches(model, real);
  }
  toString = () => `restartChild(#${this.pick})`;
}

class StartNew implements Command {
  constructor(readonly restart: Restart) {}
  check = (model: SupervisorModel) => !model.exited && model.children.length < 8;
  async run(model: SupervisorModel, real: Real) {
    real.added += 1;
    const id = `new${real.added}`;
    await real.supervisor.startChild(real.harness.child(id, { restart: this.restart }));
    addChild(model, id, this.restart);
    await assertMatches(model, real);
  }
  toString = () => `startChild(${this.restart})`;
}

class Delete implements Command {
  constructor(readonly pick: number) {}
  check = (model: SupervisorModel) => !model.exited && model.children.some((child) => !child.running);
  async run(model: SupervisorModel, real: Real) {
    const stopped = model.children.filter((child) => !child.running);
    const child = stopped[this.pick % stopped.length]!;
    await real.supervisor.deleteChild(child.id);
    deleteChild(model, child.id);
    await assertMatches(model, real);
  }
  toString = () => `deleteChild(#${this.pick})`;
}

const restartArbitrary = fc.constantFrom<Restart>('permanent', 'transient', 'temporary');

const childExit = fc
  .tuple(fc.nat(), fc.constantFrom<'normal' | 'error'>('error', 'error', 'normal'))
  .map(([pick, reason]) => new ChildExit(pick, reason));

// Exits are listed twice: they drive the restart rules, the other commands set the scene.
const commands = [
  childExit,
  childExit,
  // Round steps land restarts exactly on the period boundary, where off-by-one bugs hide.
  fc.oneof(fc.constantFrom(100, 250, 500, 1000), fc.integer({ min: 1, max: 700 })).map((ms) => new Advance(ms)),
  fc.nat().map((pick) => new Terminate(pick)),
  fc.nat().map((pick) => new RestartByHand(pick)),
  restartArbitrary.map((restart) => new StartNew(restart)),
  fc.nat().map((pick) => new Delete(pick)),
];

describe('supervisor against the OTP model', () => {
  it('keeps the running children, their order and restart counts as the model, and exits exactly when the model exceeds intensity', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Strategy>('one_for_one', 'one_for_all', 'rest_for_one'),
        fc.integer({ min: 0, max: 4 }),
        fc.oneof(fc.constantFrom(250, 500, 1000), fc.integer({ min: 1, max: 2000 })),
        fc.array(restartArbitrary, { minLength: 1, maxLength: 5 }),
        fc.commands(commands, { maxCommands: 40, size: 'max' }),
        async (strategy, intensity, period, restarts, script) => {
          const recorded = recordTelemetry();
          const harness = new ChildHarness();
          const specs = restarts.map((restart, index) => ({ id: `c${index}`, restart }));
          const supervisor = await startSupervisor(
            { strategy, intensity, period, children: specs.map((spec) => harness.child(spec.id, { restart: spec.restart })) },
            { clock: recorded.clock, telemetry: recorded.telemetry },
          );
          const model = createModel(strategy, intensity, period, specs);
          const real: Real = { supervisor, harness, recorded, exited: 'running', added: 0 };
          await fc.asyncModelRun(() => ({ model, real }), script);
          await supervisor.stop();
        },
      ),
      { numRuns: 400 },
    );
  });
});

/** A two-level tree: root (one_for_one) over a sibling worker and a nested supervisor of one worker. */
interface TreeModel {
  rootIntensity: number;
  nestedIntensity: number;
  period: number;
  now: number;
  rootRestarts: number[];
  nestedRestarts: number[];
  nestedStarts: number;
  workerStarts: number;
  siblingStarts: number;
  rootExited: boolean;
}

function withinIntensity(times: number[], now: number, period: number, intensity: number): [number[], boolean] {
  const kept = [...times.filter((time) => now - time <= period), now];
  return [kept, kept.length <= intensity];
}

function rootRestart(model: TreeModel): boolean {
  const [kept, ok] = withinIntensity(model.rootRestarts, model.now, model.period, model.rootIntensity);
  model.rootRestarts = kept;
  if (!ok) model.rootExited = true;
  return ok;
}

describe('nested supervisors against the OTP model', () => {
  it('escalate exactly when the nested intensity is exceeded, and the root exits exactly when its own is', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.oneof(fc.constant('worker' as const), fc.constant('sibling' as const), fc.integer({ min: 1, max: 600 })), {
          maxLength: 30,
        }),
        async (rootIntensity, nestedIntensity, steps) => {
          const period = 1000;
          const recorded = recordTelemetry();
          const harness = new ChildHarness();
          let nestedStarts = 0;
          recorded.telemetry.select('supervisor.child.started').subscribe((event) => {
            if (event.metadata.child === 'team') nestedStarts += 1;
          });
          const root = await startSupervisor(
            {
              intensity: rootIntensity,
              period,
              children: [
                harness.child('sibling'),
                supervisorChild('team', { intensity: nestedIntensity, period, children: [harness.child('worker')] }),
              ],
            },
            { clock: recorded.clock, telemetry: recorded.telemetry },
          );
          const model: TreeModel = {
            rootIntensity,
            nestedIntensity,
            period,
            now: 0,
            rootRestarts: [],
            nestedRestarts: [],
            nestedStarts: 1,
            workerStarts: 1,
            siblingStarts: 1,
            rootExited: false,
          };
          for (const step of steps) {
            if (model.rootExited) break;
            if (typeof step === 'number') {
              recorded.clock.advance(step);
              model.now += step;
            } else if (step === 'sibling') {
              harness.crash('sibling');
              if (rootRestart(model)) model.siblingStarts += 1;
            } else {
              harness.crash('worker');
              const [kept, ok] = withinIntensity(model.nestedRestarts, model.now, period, nestedIntensity);
              model.nestedRestarts = kept;
              if (ok) model.workerStarts += 1;
              else {
                model.nestedRestarts = [];
                if (rootRestart(model)) {
                  model.nestedStarts += 1;
                  model.workerStarts += 1;
                }
              }
            }
            await flush();
            await flush();
            const rootState = await Promise.race([root.exited, flush().then(() => 'running')]);
            expect(rootState === 'shutdown').toBe(model.rootExited);
            if (model.rootExited) break;
            expect(nestedStarts).toBe(model.nestedStarts);
            expect(harness.startCount('worker')).toBe(model.workerStarts);
            expect(harness.startCount('sibling')).toBe(model.siblingStarts);
            const nested = supervisorOf(root.whichChildren()[1]?.ref) as Supervisor | undefined;
            expect(nested?.whichChildren()[0]?.ref?.getSnapshot().status).toBe('active');
          }
          await root.stop();
        },
      ),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Asynchronous starts, graceful stops, kills and stop(), against a model with a mailbox.

interface MailboxReal {
  supervisor: Supervisor;
  harness: StartHarness;
  clock: TestClock;
  /** Every API call made, as it has settled so far (same order as the model's calls). */
  calls: CallState[];
  /** Every stop() call made: resolved once the supervisor has exited. */
  stops: CallState[];
  added: number;
}

function track(states: CallState[], promise: Promise<unknown>): void {
  const index = states.push({ status: 'pending' }) - 1;
  promise.then(
    () => (states[index] = { status: 'resolved' }),
    (error: unknown) => (states[index] = { status: 'rejected', code: String((error as { code?: unknown }).code) }),
  );
}

/**
 * After every step: nothing runs that the supervisor does not hold, and nothing at all once it
 * has exited; the children, their actors' states, the start counts, the starts still pending and
 * every caller's outcome are as the model says; the supervisor has exited exactly when the
 * model has, the same way.
 */
async function assertMailboxMatches(model: MailboxModel, real: MailboxReal): Promise<void> {
  await flush();
  await flush();
  const exited = await Promise.race([real.supervisor.exited, flush().then(() => 'running' as const)]);
  expect(exited, 'how the supervisor exited').toBe(model.exitedWith ?? 'running');
  const running = real.harness.running();
  if (model.exited) {
    expect(running, 'actors still running after their supervisor exited').toEqual([]);
    expect(real.supervisor.countChildren().active).toBe(0);
  } else {
    const children = real.supervisor.whichChildren();
    expect(children.map((child) => [child.id, child.ref !== undefined, child.restarting ?? false, child.nextRestartAt])).toEqual(
      model.children.map((child) => [child.id, child.attached, child.restarting, child.wait?.due]),
    );
    const held = new Set(children.map((child) => child.ref));
    for (const actor of running) expect(held.has(actor), 'a running actor its supervisor does not hold').toBe(true);
    model.children.forEach((child, index) => {
      const status = children[index]?.ref?.getSnapshot().status;
      if (child.attached) expect(status === 'active', `${child.id} is running`).toBe(child.alive);
    });
    expect(real.supervisor.countChildren()).toMatchObject({
      specs: model.children.length,
      active: model.children.filter((child) => child.attached).length,
    });
  }
  for (const [id, starts] of model.starts) expect(real.harness.startCount(id), `starts of ${id}`).toBe(starts);
  expect(real.harness.startLog, 'every start, child@time').toEqual(model.startLog);
  expect(real.harness.pendingChildren(), 'starts pending').toEqual(model.pendingStarts.map((pending) => pending.child));
  expect(real.calls, 'what each caller got').toEqual(model.calls);
  for (const stop of real.stops) expect(stop.status, 'stop()').toBe(model.exited ? 'resolved' : 'pending');
}

type MailboxCommand = fc.AsyncCommand<MailboxModel, MailboxReal>;

type AutoShutdown = NonNullable<SupervisorSpec['autoShutdown']>;

interface ChildPlan {
  restart: Restart;
  significant: boolean;
  deferred: boolean;
  drainMs: number | undefined;
  backoff?: Backoff | undefined;
}

/** A backoff with the supervisor's defaults applied, as the model needs it. */
function resolvedBackoff(backoff: Backoff): MailboxBackoff {
  return {
    minMs: backoff.minMs,
    maxMs: backoff.maxMs,
    randomFactor: backoff.randomFactor ?? 0.2,
    resetAfterMs: backoff.resetAfterMs ?? (backoff.minMs + backoff.maxMs) / 2,
  };
}

/** The child spec fields of a plan, valid under the supervisor's autoShutdown. */
function planned(model: MailboxModel, id: string, plan: ChildPlan) {
  const significant = plan.significant && plan.restart !== 'permanent' && model.options.autoShutdown !== 'never';
  return {
    id,
    restart: plan.restart,
    significant,
    deferred: plan.deferred,
    drainMs: plan.drainMs,
    given: plan.backoff,
    backoff: plan.backoff === undefined ? undefined : resolvedBackoff(plan.backoff),
  };
}

function harnessChild(real: MailboxReal, child: ReturnType<typeof planned>) {
  return real.harness.child(child.id, {
    restart: child.restart,
    significant: child.significant,
    deferred: child.deferred,
    ...(child.drainMs === undefined ? {} : { drainMs: child.drainMs, shutdown: 'infinity' as const }),
    ...(child.given === undefined ? {} : { backoff: child.given }),
  });
}

const pickFrom = <T>(items: readonly T[], pick: number): T => items[pick % items.length]!;

class ChildEnds implements MailboxCommand {
  constructor(
    readonly pick: number,
    readonly reason: 'error' | 'normal',
  ) {}
  check = (model: MailboxModel) => !model.exited && model.serving().length > 0;
  async run(model: MailboxModel, real: MailboxReal) {
    const child = pickFrom(model.serving(), this.pick);
    const ref = real.supervisor.whichChildren().find((each) => each.id === child.id)?.ref;
    ref!.send({ type: this.reason === 'error' ? 'CRASH' : 'FINISH' });
    model.childEnds(child, this.reason);
    await assertMailboxMatches(model, real);
  }
  toString = () => `ends(#${this.pick}, ${this.reason})`;
}

class StartChild implements MailboxCommand {
  constructor(readonly plan: ChildPlan) {}
  check = (model: MailboxModel) => !model.exited && model.children.length < 8;
  async run(model: MailboxModel, real: MailboxReal) {
    real.added += 1;
    const child = planned(model, `n${real.added}`, this.plan);
    track(real.calls, real.supervisor.startChild(harnessChild(real, child)));
    model.startChild(child);
    await assertMailboxMatches(model, real);
  }
  toString = () => `startChild(${JSON.stringify(this.plan)})`;
}

class ByHand implements MailboxCommand {
  constructor(
    readonly request: 'restartChild' | 'terminateChild' | 'deleteChild',
    readonly pick: number,
  ) {}
  check = (model: MailboxModel) => !model.exited && model.children.length > 0;
  async run(model: MailboxModel, real: MailboxReal) {
    const { id } = pickFrom(model.children, this.pick);
    track(real.calls, real.supervisor[this.request](id));
    model[this.request](id);
    await assertMailboxMatches(model, real);
  }
  toString = () => `${this.request}(#${this.pick})`;
}

class Settle implements MailboxCommand {
  constructor(
    readonly pick: number,
    readonly outcome: StartOutcome,
  ) {}
  check = (model: MailboxModel) => model.pendingStarts.length > 0;
  async run(model: MailboxModel, real: MailboxReal) {
    const index = this.pick % model.pendingStarts.length;
    real.harness.settle(index, this.outcome);
    model.settle(index, this.outcome);
    await assertMailboxMatches(model, real);
  }
  toString = () => `settle(#${this.pick}, ${this.outcome})`;
}

class PrimeStart implements MailboxCommand {
  constructor(
    readonly pick: number,
    readonly outcome: StartOutcome,
  ) {}
  check = (model: MailboxModel) => !model.exited && model.children.some((child) => !child.deferred);
  async run(model: MailboxModel, real: MailboxReal) {
    const child = pickFrom(
      model.children.filter((each) => !each.deferred),
      this.pick,
    );
    real.harness.primeOutcome(child.id, this.outcome);
    model.prime(child, this.outcome);
    await assertMailboxMatches(model, real);
  }
  toString = () => `prime(#${this.pick}, ${this.outcome})`;
}

class AdvanceClock implements MailboxCommand {
  constructor(readonly ms: number) {}
  check = (model: MailboxModel) => !model.exited;
  async run(model: MailboxModel, real: MailboxReal) {
    real.clock.advance(this.ms);
    model.advance(this.ms);
    await assertMailboxMatches(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

/** The parent gives up on the supervisor (its shutdown time is over) and stops its actor. */
class Kill implements MailboxCommand {
  check = (model: MailboxModel) => !model.exited;
  async run(model: MailboxModel, real: MailboxReal) {
    real.supervisor.ref.stop();
    model.kill();
    await assertMailboxMatches(model, real);
  }
  toString = () => 'kill';
}

class Stop implements MailboxCommand {
  check = (model: MailboxModel) => !model.exited;
  async run(model: MailboxModel, real: MailboxReal) {
    track(real.stops, real.supervisor.stop());
    model.stop();
    await assertMailboxMatches(model, real);
  }
  toString = () => 'stop()';
}

const childPlan = fc.record({
  restart: fc.constantFrom<Restart>('permanent', 'transient', 'transient', 'temporary'),
  significant: fc.boolean(),
  deferred: fc.boolean(),
  drainMs: fc.option(fc.constantFrom(100, 300), { nil: undefined }),
});

const startOutcome = fc.constantFrom<StartOutcome>('running', 'running', 'done', 'stopped', 'error', 'reject', 'reject');

const childEnds = fc
  .tuple(fc.nat(), fc.constantFrom<'error' | 'normal'>('error', 'error', 'normal'))
  .map(([pick, reason]) => new ChildEnds(pick, reason));
const settle = fc.tuple(fc.nat(), startOutcome).map(([pick, outcome]) => new Settle(pick, outcome));

// Exits and settles drive the rules, so they come most often; a kill or stop ends the run's
// interesting part (only late settles follow it), so they come least often.
const mailboxCommands = [
  childEnds,
  childEnds,
  settle,
  settle,
  childPlan.map((plan) => new StartChild(plan)),
  fc
    .tuple(fc.constantFrom('restartChild' as const, 'terminateChild' as const, 'deleteChild' as const), fc.nat())
    .map(([request, pick]) => new ByHand(request, pick)),
  fc.tuple(fc.nat(), fc.constantFrom<StartOutcome>('done', 'stopped', 'error', 'reject')).map(([pick, outcome]) => new PrimeStart(pick, outcome)),
  fc.oneof(
    { weight: 6, arbitrary: fc.oneof(fc.constantFrom(100, 300, 1000), fc.integer({ min: 1, max: 700 })).map((ms) => new AdvanceClock(ms)) },
    { weight: 1, arbitrary: fc.constant(new Kill()) },
    { weight: 1, arbitrary: fc.constant(new Stop()) },
  ),
];

/** One run: a supervisor of `plans` (started synchronously), the script, then a kill and late settles. */
async function runMailboxScript(
  options: ConstructorParameters<typeof MailboxModel>[0],
  plans: ChildPlan[],
  script: Iterable<MailboxCommand>,
): Promise<void> {
  const recorded = recordTelemetry();
  const harness = new StartHarness();
  const model = new MailboxModel(options);
  const initial = plans.map((plan, index) => planned(model, `c${index}`, plan));
  const real: MailboxReal = { supervisor: undefined as never, harness, clock: recorded.clock, calls: [], stops: [], added: 0 };
  real.supervisor = await startSupervisor(
    { ...options, children: initial.map((child) => harnessChild(real, { ...child, deferred: false })) },
    { clock: recorded.clock, telemetry: recorded.telemetry, random: () => options.u ?? 0 },
  );
  for (const child of initial) {
    harness.setDeferred(child.id, child.deferred);
    model.addInitial(child);
  }
  await fc.asyncModelRun(() => ({ model, real }), script);
  // Whatever state it was left in, the supervisor is killed and every start settles late.
  if (!model.exited) {
    real.supervisor.ref.stop();
    model.kill();
  }
  while (model.pendingStarts.length > 0) {
    harness.settle(0, 'running');
    model.settle(0, 'running');
  }
  await assertMailboxMatches(model, real);
  expect(real.calls.filter((call) => call.status === 'pending'), 'callers left waiting').toEqual([]);
}

const strategy = fc.constantFrom<Strategy>('one_for_one', 'one_for_all', 'rest_for_one');
const period = fc.oneof(fc.constantFrom(500, 1000), fc.integer({ min: 1, max: 2000 }));

describe('supervisor with asynchronous starts against the OTP mailbox model', () => {
  it('nothing runs after its supervisor exited, nothing runs that it does not hold, and children, counts and every caller match the model at every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        strategy,
        fc.integer({ min: 0, max: 8 }),
        period,
        fc.constantFrom<AutoShutdown>('never', 'any_significant', 'all_significant'),
        fc.array(childPlan, { minLength: 1, maxLength: 5 }),
        fc.commands(mailboxCommands, { maxCommands: 50, size: 'max' }),
        (strategy, intensity, period, autoShutdown, plans, script) =>
          runMailboxScript({ strategy, intensity, period, autoShutdown }, plans, script),
      ),
      { numRuns: 300 },
    );
  });

  it('the same, with every child significant: auto shutdown exactly when the model says, a child being restarted counting as alive', async () => {
    const significantPlan = fc.record({
      restart: fc.constantFrom<Restart>('transient', 'transient', 'temporary'),
      significant: fc.constant(true),
      deferred: fc.boolean(),
      drainMs: fc.option(fc.constantFrom(100, 300), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        strategy,
        fc.integer({ min: 1, max: 8 }),
        period,
        fc.constantFrom<AutoShutdown>('any_significant', 'all_significant', 'all_significant'),
        fc.array(significantPlan, { minLength: 2, maxLength: 4 }),
        fc.commands(mailboxCommands, { maxCommands: 30, size: 'max' }),
        (strategy, intensity, period, autoShutdown, plans, script) =>
          runMailboxScript({ strategy, intensity, period, autoShutdown }, plans, script),
      ),
      { numRuns: 200 },
    );
  });
});

describe('supervisor with restart backoff and asynchronous starts against the OTP mailbox model', () => {
  // Delays from integers and binary fractions, so the clock and the model agree to the bit; no
  // draining children (the model does not order drains against due times).
  const backoffPlan = fc
    .record({
      minMs: fc.integer({ min: 1, max: 300 }),
      span: fc.integer({ min: 0, max: 1500 }),
      randomFactor: fc.constantFrom(0, 0.5, 1),
      resetAfterMs: fc.option(fc.constantFrom(0, 200, 1000), { nil: undefined }),
    })
    .map(({ minMs, span, randomFactor, resetAfterMs }): Backoff => ({
      minMs,
      maxMs: minMs + span,
      randomFactor,
      ...(resetAfterMs === undefined ? {} : { resetAfterMs }),
    }));
  const planWithBackoff = fc.record({
    restart: fc.constantFrom<Restart>('permanent', 'permanent', 'transient', 'temporary'),
    significant: fc.boolean(),
    deferred: fc.boolean(),
    drainMs: fc.constant(undefined),
    backoff: fc.option(backoffPlan, { freq: 3, nil: undefined }),
  });
  // Exits come most often, so that children wait often; a kill or stop ends a run's interesting part.
  const backoffCommands = [
    ...mailboxCommands.slice(0, 4),
    mailboxCommands[0]!,
    mailboxCommands[0]!,
    mailboxCommands[0]!,
    planWithBackoff.map((plan) => new StartChild(plan)),
    mailboxCommands[5]!,
    mailboxCommands[6]!,
    fc.oneof(
      { weight: 12, arbitrary: fc.oneof(fc.constantFrom(1, 100, 300, 1000, 3000), fc.integer({ min: 1, max: 1500 })).map((ms) => new AdvanceClock(ms)) },
      { weight: 1, arbitrary: fc.constant(new Kill()) },
      { weight: 1, arbitrary: fc.constant(new Stop()) },
    ),
  ];

  it('a waiting child starts exactly when its delay falls due and its turn comes, never after terminate, stop or a kill; callers, counts and restarting/nextRestartAt match the model at every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        strategy,
        fc.integer({ min: 1, max: 8 }),
        period,
        fc.constantFrom<AutoShutdown>('never', 'never', 'any_significant', 'all_significant'),
        fc.constantFrom(0, 0.25, 0.5),
        fc.array(planWithBackoff, { minLength: 1, maxLength: 5 }),
        fc.commands(backoffCommands, { maxCommands: 60, size: 'max' }),
        (strategy, intensity, period, autoShutdown, u, plans, script) =>
          runMailboxScript({ strategy, intensity, period, autoShutdown, u }, plans, script),
      ),
      { numRuns: 600 },
    );
  });
});
