import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startSupervisor, supervisorChild, supervisorOf, type Restart, type Strategy, type Supervisor } from '../../src/index.js';
import { ChildHarness } from '../support/actors.js';
import { flush, recordTelemetry, type Recorded } from '../support/supervision.js';
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
