import { describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import { SupervisorError, isSupervisorError, startSupervisor } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function twoChildren() {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    { intensity: 5, children: [harness.child('a'), harness.child('b')] },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor };
}

describe('start failure during startSupervisor', () => {
  it('rejects start_failed naming the child after stopping the started ones in reverse order', async () => {
    const { clock, telemetry, trail } = recordTelemetry();
    const harness = new ChildHarness();
    harness.failNextStarts('c', 1);
    const starting = startSupervisor(
      { children: [harness.child('a'), harness.child('b'), harness.child('c'), harness.child('d')] },
      { id: 'sup', clock, telemetry },
    );
    const error = await starting.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SupervisorError);
    expect(error).toMatchObject({ code: 'start_failed', childId: 'c' });
    expect(((error as SupervisorError).cause as Error).message).toBe('start of c failed');
    expect(trail()).toEqual(['started a', 'started b', 'exited b shutdown', 'exited a shutdown']);
    expect(harness.startCount('d')).toBe(0);
  });

  it('treats a rejected start and an actor that fails at once as failed starts', async () => {
    const { clock, telemetry } = recordTelemetry();
    await expect(
      startSupervisor({ children: [{ id: 'async', start: () => Promise.reject(new Error('no')) }] }, { clock, telemetry }),
    ).rejects.toMatchObject({ code: 'start_failed', childId: 'async' });
    const failsOnEntry = setup({
      actions: {
        boom: () => {
          throw new Error('entry failed');
        },
      },
    }).createMachine({ entry: 'boom' });
    const failingAtOnce = { id: 'broken', start: () => createActor(failsOnEntry) };
    const error = await startSupervisor({ children: [failingAtOnce] }, { clock, telemetry }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'start_failed', childId: 'broken' });
    expect(((error as SupervisorError).cause as Error).message).toBe('entry failed');
  });

  it('rejects a start that does not return an actor', async () => {
    const { clock, telemetry } = recordTelemetry();
    const error = await startSupervisor({ children: [{ id: 'x', start: () => 42 as never }] }, { clock, telemetry }).catch(
      (caught: unknown) => caught,
    );
    expect(isSupervisorError(error, 'start_failed')).toBe(true);
    expect((error as SupervisorError).cause).toMatchObject({ code: 'ERR_CONFIG', option: 'start', value: 42 });
    expect(String((error as SupervisorError).cause)).toMatch(/returns \(or resolves with\) an XState actor/);
  });
});

describe('startChild', () => {
  it('adds a child after the others and starts it', async () => {
    const { supervisor, harness } = await twoChildren();
    const ref = await supervisor.startChild(harness.child('c'));
    expect(ref.getSnapshot().status).toBe('active');
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a', 'b', 'c']);
  });

  it('refuses an id that is running (already_started) or held but stopped (already_present)', async () => {
    const { supervisor, harness } = await twoChildren();
    await expect(supervisor.startChild(harness.child('a'))).rejects.toMatchObject({ code: 'already_started', childId: 'a' });
    await supervisor.terminateChild('a');
    await expect(supervisor.startChild(harness.child('a'))).rejects.toMatchObject({ code: 'already_present', childId: 'a' });
  });

  it('does not keep the spec of a child that fails to start', async () => {
    const { supervisor, harness } = await twoChildren();
    harness.failNextStarts('c', 1);
    await expect(supervisor.startChild(harness.child('c'))).rejects.toMatchObject({ code: 'start_failed', childId: 'c' });
    expect(supervisor.countChildren().specs).toBe(2);
  });

  it('rejects an invalid spec with ConfigError', async () => {
    const { supervisor } = await twoChildren();
    await expect(supervisor.startChild({ id: 'x', start: 'nope' as never })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });
});

describe('terminateChild', () => {
  it('stops the child and keeps its spec', async () => {
    const { supervisor, harness } = await twoChildren();
    await supervisor.terminateChild('a');
    expect(harness.actor('a').getSnapshot().status).toBe('stopped');
    expect(supervisor.whichChildren()[0]).toMatchObject({ id: 'a', ref: undefined });
    expect(supervisor.countChildren()).toEqual({ specs: 2, active: 1, supervisors: 0, workers: 2 });
  });

  it('does not count as a restart and does not restart the child', async () => {
    const { supervisor, harness, named } = await twoChildren();
    await supervisor.terminateChild('a');
    await flush();
    expect(harness.startCount('a')).toBe(1);
    expect(named('supervisor.child.restarted')).toHaveLength(0);
  });

  it('removes a temporary child', async () => {
    const { supervisor, harness } = await twoChildren();
    await supervisor.startChild(harness.child('t', { restart: 'temporary' }));
    await supervisor.terminateChild('t');
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a', 'b']);
  });

  it('rejects an unknown id with not_found', async () => {
    const { supervisor } = await twoChildren();
    await expect(supervisor.terminateChild('zz')).rejects.toMatchObject({ code: 'not_found', childId: 'zz' });
  });
});

describe('restartChild', () => {
  it('starts a terminated child again without counting a restart', async () => {
    const { supervisor, harness, named } = await twoChildren();
    await supervisor.terminateChild('b');
    const ref = await supervisor.restartChild('b');
    expect(ref).toBe(harness.actor('b'));
    expect(supervisor.whichChildren()[1]?.ref).toBe(ref);
    expect(named('supervisor.child.restarted')).toHaveLength(0);
  });

  it('rejects a running child (running) and an unknown one (not_found)', async () => {
    const { supervisor } = await twoChildren();
    await expect(supervisor.restartChild('a')).rejects.toMatchObject({ code: 'running' });
    await expect(supervisor.restartChild('zz')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('rejects start_failed and keeps the spec when the start fails', async () => {
    const { supervisor, harness } = await twoChildren();
    await supervisor.terminateChild('a');
    harness.failNextStarts('a', 4);
    await expect(supervisor.restartChild('a')).rejects.toMatchObject({ code: 'start_failed', childId: 'a' });
    expect(supervisor.whichChildren()[0]).toMatchObject({ id: 'a', ref: undefined });
  });
});

describe('deleteChild', () => {
  it('forgets a stopped child', async () => {
    const { supervisor } = await twoChildren();
    await supervisor.terminateChild('a');
    await supervisor.deleteChild('a');
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['b']);
  });

  it('rejects a running child (running) and an unknown one (not_found)', async () => {
    const { supervisor } = await twoChildren();
    await expect(supervisor.deleteChild('a')).rejects.toMatchObject({ code: 'running' });
    await expect(supervisor.deleteChild('zz')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('whichChildren and countChildren', () => {
  it('list children in start order with their type and restart, and count them as OTP does', async () => {
    const { clock, telemetry } = recordTelemetry();
    const harness = new ChildHarness();
    const supervisor = await startSupervisor(
      {
        children: [
          harness.child('w1'),
          harness.child('s1', { type: 'supervisor', restart: 'transient', shutdown: 'infinity' }),
          harness.child('w2', { restart: 'temporary' }),
        ],
      },
      { clock, telemetry },
    );
    await supervisor.terminateChild('w1');
    expect(supervisor.whichChildren().map(({ id, type, restart, ref }) => [id, type, restart, ref !== undefined])).toEqual([
      ['w1', 'worker', 'permanent', false],
      ['s1', 'supervisor', 'transient', true],
      ['w2', 'worker', 'temporary', true],
    ]);
    expect(supervisor.countChildren()).toEqual({ specs: 3, active: 2, supervisors: 1, workers: 2 });
  });
});

describe('a child whose restart failed and is to be tried again (OTP {restarting, _})', () => {
  it('is refused restarting by restartChild and deleteChild until the retry succeeds', async () => {
    const { clock, telemetry } = recordTelemetry();
    const harness = new ChildHarness();
    const supervisor = await startSupervisor(
      { intensity: 5, children: [harness.child('a'), harness.child('b', { shutdown: 1_000, drainMs: 300 })] },
      { id: 'sup', clock, telemetry },
    );
    // The supervisor is busy with b's graceful stop while a's exit and the requests queue up
    // behind it; a's restart then fails, and its retry is queued behind the requests.
    const terminating = supervisor.terminateChild('b');
    await flush();
    harness.failNextStarts('a', 1);
    harness.crash('a');
    await flush();
    const restarted = supervisor.restartChild('a').catch((error: unknown) => error);
    const deleted = supervisor.deleteChild('a').catch((error: unknown) => error);
    clock.advance(300);
    await terminating;
    expect(await restarted).toMatchObject({ code: 'restarting', childId: 'a' });
    expect(await deleted).toMatchObject({ code: 'restarting', childId: 'a' });
    await flush();
    expect(supervisor.whichChildren().find((child) => child.id === 'a')?.ref).toBeDefined();
  });
});
