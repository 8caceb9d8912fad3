import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { startDynamicSupervisor } from '../../../src/index.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

/**
 * A dynamic supervisor shares one resolved spec among children started alike (same `start`, same
 * restart, shutdown, type and backoff). Children that differ in any of them must keep their own:
 * each is started here with the same `start` as a plain permanent worker started just before it.
 */
const machine = createMachine({
  initial: 'running',
  states: {
    running: { on: { CRASH: 'crashed', 'overseer.shutdown': 'draining' } },
    // Asked to stop, it never finishes: only its shutdown limit (or a kill) ends it.
    draining: {},
    crashed: { entry: () => { throw new Error('crashed'); } },
  },
});
const start = () => createActor(machine);

async function dynamic() {
  const recorded = recordTelemetry();
  const supervisor = await startDynamicSupervisor({ id: 'dyn', clock: recorded.clock, telemetry: recorded.telemetry, intensity: 100 });
  return { ...recorded, supervisor };
}

describe('children started alike share a spec; children that differ keep their own', () => {
  it('restart: a temporary child started after a permanent one is not restarted', async () => {
    const { supervisor } = await dynamic();
    await supervisor.startChild({ start });
    const temporary = await supervisor.startChild({ start, restart: 'temporary' });
    temporary.ref.send({ type: 'CRASH' });
    await flush();
    expect(supervisor.whichChildren().map((child) => child.id)).not.toContain(temporary.id);
    const permanent = await supervisor.startChild({ start });
    permanent.ref.send({ type: 'CRASH' });
    await flush();
    expect(supervisor.whichChildren().find((child) => child.id === permanent.id)?.ref).toBeDefined();
  });

  it('type: a supervisor child started after a worker is counted as a supervisor', async () => {
    const { supervisor } = await dynamic();
    await supervisor.startChild({ start });
    await supervisor.startChild({ start, type: 'supervisor', shutdown: 5000 });
    expect(supervisor.countChildren()).toMatchObject({ supervisors: 1, workers: 1 });
  });

  it('shutdown: a brutal_kill child started after a 5000 ms one is killed at once', async () => {
    const { supervisor } = await dynamic();
    await supervisor.startChild({ start });
    const brutal = await supervisor.startChild({ start, shutdown: 'brutal_kill' });
    let terminated = false;
    const terminating = supervisor.terminateChild(brutal.id).then(() => (terminated = true));
    await flush();
    expect(terminated).toBe(true);
    await terminating;
  });

  it('backoff: a child with a backoff started after one without waits before its restart', async () => {
    const { supervisor, clock } = await dynamic();
    await supervisor.startChild({ start });
    const patient = await supervisor.startChild({ start, backoff: { minMs: 1_000, maxMs: 1_000, randomFactor: 0 } });
    patient.ref.send({ type: 'CRASH' });
    await flush();
    const waiting = supervisor.whichChildren().find((child) => child.id === patient.id)!;
    expect(waiting.ref).toBeUndefined();
    expect(waiting.nextRestartAt).toBe(clock.now() + 1_000);
    const plain = await supervisor.startChild({ start });
    plain.ref.send({ type: 'CRASH' });
    await flush();
    expect(supervisor.whichChildren().find((child) => child.id === plain.id)?.ref).toBeDefined();
  });

  it('start: a child with another start function is started by it', async () => {
    const { supervisor } = await dynamic();
    await supervisor.startChild({ start });
    let calls = 0;
    const other = () => {
      calls += 1;
      return createActor(machine);
    };
    await supervisor.startChild({ start: other });
    expect(calls).toBe(1);
  });
});
