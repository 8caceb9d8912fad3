import { describe, expect, it } from 'vitest';
import { isSupervisorError, startSupervisor, type SupervisorSpec } from '../../../src/index.js';
import { StartHarness, flush, recordTelemetry } from '../../support/supervision.js';

// OTP: a start that returns the pid of a process that is already dead gives the supervisor an
// EXIT for it, handled by the ordinary restart rules. Here the actor's status tells the reason:
// 'done' is a 'normal' exit and 'stopped' a 'shutdown' exit. An actor that has already failed
// ('error') is a failed start, as one that fails the moment it is started (OTP: init returning
// {error, Reason}).

async function withHarness(spec: Omit<SupervisorSpec, 'children'>, children: (harness: StartHarness) => SupervisorSpec['children']) {
  const recorded = recordTelemetry();
  const harness = new StartHarness();
  const supervisor = await startSupervisor(
    { intensity: 5, period: 10_000, ...spec, children: children(harness) },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor };
}

const state = (promise: Promise<unknown>) => Promise.race([promise, flush().then(() => 'running')]);

describe('a start that returns an actor that has already ended is an exit of that child', () => {
  it('an actor already done is a normal exit: a permanent child is restarted', async () => {
    const { harness, supervisor, trail } = await withHarness({}, (h) => [h.child('a')]);
    await supervisor.startChild(harness.child('b', { outcomes: ['done'] }));
    await flush();
    expect(harness.startCount('b')).toBe(2);
    expect(supervisor.whichChildren()[1]?.ref?.getSnapshot().status).toBe('active');
    expect(supervisor.countChildren().active).toBe(2);
    expect(trail()).toContain('exited b normal');
  });

  it('an actor already stopped is a shutdown exit: a transient child is kept, not restarted', async () => {
    const { harness, supervisor, trail } = await withHarness({}, (h) => [h.child('a')]);
    await supervisor.startChild(harness.child('b', { restart: 'transient', outcomes: ['stopped'] }));
    await flush();
    expect(harness.startCount('b')).toBe(1);
    expect(supervisor.whichChildren()[1]).toMatchObject({ id: 'b', ref: undefined });
    expect(supervisor.countChildren()).toMatchObject({ specs: 2, active: 1 });
    expect(trail()).toContain('exited b shutdown');
  });

  it('an actor that stops while its deferred start is in flight is an exit once it arrives', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const starting = supervisor.startChild(harness.child('b', { restart: 'temporary', deferred: true }));
    await flush();
    harness.settleChild('b', 'stopped');
    await starting;
    await flush();
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a']);
  });

  it('a restart that returns an ended actor counts as a restart, so a child that always does exhausts the intensity', async () => {
    const { harness, supervisor } = await withHarness({ intensity: 3 }, (h) => [h.child('a')]);
    await supervisor.startChild(harness.child('b', { outcomes: ['stopped', 'stopped', 'stopped', 'stopped', 'stopped'] }));
    await flush();
    expect(await state(supervisor.exited)).toBe('shutdown');
    expect(harness.startCount('b')).toBe(4);
    expect(harness.running()).toEqual([]);
  });

  it('at the initial start an actor already done counts as started; its normal exit then follows the restart rules', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      { children: [harness.child('p', { outcomes: ['done'] }), harness.child('t', { restart: 'transient', outcomes: ['done'] })] },
      { clock: recorded.clock, telemetry: recorded.telemetry },
    );
    await flush();
    expect(harness.startCount('p')).toBe(2);
    expect(harness.startCount('t')).toBe(1);
    expect(supervisor.whichChildren().map((child) => [child.id, child.ref !== undefined])).toEqual([
      ['p', true],
      ['t', false],
    ]);
  });
});

describe('a start that returns an actor that has already failed is a failed start', () => {
  it('at the initial start startSupervisor rejects start_failed with the actor error', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const error = await startSupervisor(
      { children: [harness.child('a'), harness.child('b', { outcomes: ['error'] })] },
      { clock: recorded.clock, telemetry: recorded.telemetry },
    ).catch((caught: unknown) => caught);
    expect(isSupervisorError(error, 'start_failed')).toBe(true);
    expect(error).toMatchObject({ childId: 'b', cause: { message: 'worker crashed' } });
    await flush();
    expect(harness.running()).toEqual([]);
  });

  it('startChild rejects start_failed and keeps no spec', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    await expect(supervisor.startChild(harness.child('b', { outcomes: ['error'] }))).rejects.toMatchObject({
      code: 'start_failed',
      childId: 'b',
    });
    expect(supervisor.countChildren()).toMatchObject({ specs: 1, active: 1 });
  });

  it('a restart is retried', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a', { outcomes: ['running', 'error'] })]);
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    expect(harness.startCount('a')).toBe(3);
    expect(supervisor.whichChildren()[0]?.ref?.getSnapshot().status).toBe('active');
  });
});
