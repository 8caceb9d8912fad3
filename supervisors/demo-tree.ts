import { createActor, setup } from 'xstate';
import {
  startSupervisor,
  supervisorChild,
  systemClock,
  telemetry as sharedTelemetry,
  type Clock,
  type StartContext,
  type Supervisor,
  type Telemetry,
} from '../src/index.js';

/** Options of {@link startDemoTree}. */
export interface DemoTreeOptions {
  /** Milliseconds between two ticks of the ticker. Default 1000. */
  tickMs?: number;
  /** The ticker crashes on every this-many-th tick. Default 5. */
  crashEvery?: number;
  clock?: Clock;
  telemetry?: Telemetry;
}

/**
 * A worker that ticks on its supervisor's clock and fails on purpose every `crashEvery` ticks,
 * so that the tree shows a crash and a restart. It drains for one tick when asked to shut down.
 */
function tickerMachine(tickMs: number, crashEvery: number) {
  return setup({
    types: { context: {} as { ticks: number } },
    actions: {
      crashWhenDue: ({ context }) => {
        if (context.ticks > 0 && context.ticks % crashEvery === 0) throw new Error(`ticker crashed on tick ${context.ticks}`);
      },
    },
    delays: { tick: tickMs },
  }).createMachine({
    id: 'ticker',
    context: { ticks: 0 },
    initial: 'ticking',
    states: {
      ticking: {
        after: { tick: { target: 'ticking', reenter: true, actions: [({ context }) => (context.ticks += 1), 'crashWhenDue'] } },
        on: { 'overseer.shutdown': 'draining' },
      },
      draining: { after: { tick: 'stopped' } },
      stopped: { type: 'final' },
    },
  });
}

/** A worker that only waits; it stands for a resource such as a connection. */
const idleMachine = setup({}).createMachine({ id: 'idle', initial: 'up', states: { up: {} } });

/**
 * Starts the demo tree `npm start` runs:
 *
 * ```
 * app (one_for_one, 3 restarts / 10 s)
 * ├── ticker            worker, crashes every few ticks and is restarted
 * └── jobs (rest_for_one)
 *     ├── queue         worker
 *     └── runner        worker, restarted with the queue
 * ```
 */
export function startDemoTree(options: DemoTreeOptions = {}): Promise<Supervisor> {
  const tickMs = options.tickMs ?? 1000;
  const crashEvery = options.crashEvery ?? 5;
  const clock = options.clock ?? systemClock;
  const machine = tickerMachine(tickMs, crashEvery);
  const onClock = (logic: typeof idleMachine | typeof machine) => (context: StartContext) =>
    createActor(logic, { clock: context.clock });
  return startSupervisor(
    {
      strategy: 'one_for_one',
      intensity: 3,
      period: 10_000,
      children: [
        { id: 'ticker', start: onClock(machine), shutdown: tickMs * 2 },
        supervisorChild('jobs', {
          strategy: 'rest_for_one',
          children: [
            { id: 'queue', start: onClock(idleMachine) },
            { id: 'runner', start: onClock(idleMachine) },
          ],
        }),
      ],
    },
    { id: 'app', clock, telemetry: options.telemetry ?? sharedTelemetry },
  );
}
