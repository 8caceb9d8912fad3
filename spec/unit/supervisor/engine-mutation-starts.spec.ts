import { describe, expect, it } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { isConfigError, startDynamicSupervisor, startSupervisor, type SupervisorError } from '../../../src/index.js';
import { ChildHarness, workerMachine } from '../../support/actors.js';
import { StartHarness, flush, recordTelemetry } from '../../support/supervision.js';

// Starting children: what a start that returns nothing, settles after the supervisor exited, or
// fails while a request about the same child waits, comes to; and the small print of ids,
// telemetry and argument errors.

async function deferredSupervisor(options: { intensity?: number } = {}) {
  const recorded = recordTelemetry();
  const harness = new StartHarness();
  const supervisor = await startSupervisor(
    { intensity: options.intensity ?? 10, period: 60_000, children: [harness.child('a')] },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor };
}

describe('a start that returns no actor', () => {
  it.each([undefined, null])('returning %s is a start_failed whose cause is the ConfigError about start', async (value) => {
    const { supervisor } = await deferredSupervisor();
    const error = (await supervisor.startChild({ id: 'nothing', start: () => value as never }).catch((caught: unknown) => caught)) as SupervisorError;
    expect(error).toMatchObject({ code: 'start_failed', childId: 'nothing' });
    expect(isConfigError(error.cause) && error.cause.option).toBe('start');
    await supervisor.stop();
  });
});

describe('a start still in flight when the supervisor is killed', () => {
  it("startChild rejects not_running, and the actor that arrives afterwards is stopped at once", async () => {
    const { supervisor, harness } = await deferredSupervisor();
    const starting = supervisor.startChild(harness.child('late', { deferred: true }));
    await flush();
    supervisor.ref.stop();
    await expect(starting).rejects.toMatchObject({ code: 'not_running', childId: 'late' });
    harness.settleChild('late', 'running');
    await flush();
    expect(harness.running()).toEqual([]);
  });

  it('a restart in flight that is abandoned leaves the child neither restarting nor reported as a failed start', async () => {
    const { supervisor, harness, named } = await deferredSupervisor();
    harness.setDeferred('a', true);
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    expect(harness.pendingChildren()).toEqual(['a']);
    supervisor.ref.stop();
    await flush();
    expect(await supervisor.exited).toBe('shutdown');
    expect(supervisor.whichChildren()).toEqual([{ id: 'a', ref: undefined, type: 'worker', restart: 'permanent' }]);
    expect(named('supervisor.child.start_failed')).toEqual([]);
  });
});

describe('a restart that fails while a terminateChild of the same child waits in the mailbox', () => {
  it('is not tried again: the child stays terminated', async () => {
    const { supervisor, harness, named } = await deferredSupervisor();
    harness.setDeferred('a', true);
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    const terminating = supervisor.terminateChild('a'); // queued behind the restart in flight
    harness.settleChild('a', 'reject');
    await terminating;
    await flush();
    expect(harness.startCount('a')).toBe(2);
    expect(harness.pendingChildren()).toEqual([]);
    expect(supervisor.whichChildren()).toEqual([{ id: 'a', ref: undefined, type: 'worker', restart: 'permanent' }]);
    const failed = named('supervisor.child.start_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.metadata).toEqual({ supervisor: 'sup', child: 'a', error: expect.objectContaining({ message: 'start of a rejected' }) });
    await supervisor.stop();
  });
});

describe('an old actor of a child that ends late', () => {
  it('does not end the graceful stop of the child’s current actor', async () => {
    const { clock, telemetry } = recordTelemetry();
    const produced: AnyActorRef[] = [];
    const machine = workerMachine({ drainMs: 'never' });
    const supervisor = await startSupervisor(
      {
        children: [
          {
            id: 'a',
            shutdown: 1000,
            start: (context) => {
              const actor = createActor(machine, { clock: context.clock });
              produced.push(actor);
              return actor;
            },
          },
        ],
      },
      { id: 'sup', clock, telemetry },
    );
    // The first actor cannot be stopped from outside (as a non-root actor): the supervisor gives
    // up on it after its shutdown time and lets it go, though it still runs.
    const [old] = produced as [AnyActorRef];
    const stopOld = old.stop.bind(old);
    old.stop = () => old;
    const first = supervisor.terminateChild('a');
    clock.advance(1000);
    await first;
    await supervisor.restartChild('a');
    const current = produced[1]!;
    let terminated = false;
    const second = supervisor.terminateChild('a').then(() => (terminated = true));
    await flush();
    expect(current.getSnapshot().value).toBe('draining');
    stopOld(); // the old actor ends now
    await flush();
    expect(terminated).toBe(false);
    expect(current.getSnapshot().status).toBe('active');
    clock.advance(1000);
    await second;
    expect(current.getSnapshot().status).toBe('stopped');
    await supervisor.stop();
  });
});

describe('group restarts and temporary children', () => {
  it('one_for_all does not start again a temporary child it stopped for the restart', async () => {
    const { clock, telemetry } = recordTelemetry();
    const harness = new ChildHarness();
    const supervisor = await startSupervisor(
      { strategy: 'one_for_all', children: [harness.child('a'), harness.child('t', { restart: 'temporary' }), harness.child('b')] },
      { id: 'sup', clock, telemetry },
    );
    harness.crash('a');
    await flush();
    expect([harness.startCount('a'), harness.startCount('t'), harness.startCount('b')]).toEqual([2, 1, 2]);
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a', 'b']);
    expect(harness.actor('t').getSnapshot().status).toBe('stopped');
    await supervisor.stop();
  });
});

describe('generated child ids', () => {
  const anonymous = (harness: ChildHarness) => {
    const { id: _id, ...rest } = harness.child('w');
    return rest;
  };

  it('are <supervisor id>#1, #2, … in order', async () => {
    const harness = new ChildHarness();
    const supervisor = await startDynamicSupervisor({ id: 'dyn', clock: recordTelemetry().clock });
    expect((await supervisor.startChild(anonymous(harness))).id).toBe('dyn#1');
    expect((await supervisor.startChild(anonymous(harness))).id).toBe('dyn#2');
    await supervisor.stop();
  });

  it('skip an id a child was given by hand', async () => {
    const harness = new ChildHarness();
    const supervisor = await startDynamicSupervisor({ id: 'dyn', clock: recordTelemetry().clock });
    await supervisor.startChild({ ...anonymous(harness), id: 'dyn#1' });
    expect((await supervisor.startChild(anonymous(harness))).id).toBe('dyn#2');
    await supervisor.stop();
  });
});

describe('supervisor.child.exited telemetry', () => {
  it('carries the error of a crash, and no error key at all for an exit without one', async () => {
    const { clock, telemetry, named } = recordTelemetry();
    const harness = new ChildHarness();
    const supervisor = await startSupervisor({ children: [harness.child('a')] }, { id: 'sup', clock, telemetry });
    harness.crash('a');
    await flush();
    await supervisor.terminateChild('a');
    const [crashed, terminated] = named('supervisor.child.exited').map((event) => event.metadata);
    expect(crashed).toMatchObject({ child: 'a', reason: 'error', error: expect.objectContaining({ message: 'worker crashed' }) });
    expect(terminated).toMatchObject({ child: 'a', reason: 'shutdown' });
    expect(Object.hasOwn(terminated!, 'error')).toBe(false);
    await supervisor.stop();
  });
});

describe('a child id that is not a string', () => {
  it.each(['terminateChild', 'restartChild', 'deleteChild'] as const)('%s rejects naming what a child id is', async (method) => {
    const { supervisor } = await deferredSupervisor();
    await expect(supervisor[method](42 as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      argument: `${method}.id`,
      message: expect.stringContaining('expected a child id (a string)'),
    });
    await supervisor.stop();
  });
});
