import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import {
  isSupervisorError,
  startDynamicSupervisor,
  startSupervisor,
  supervisorChild,
  type StartContext,
  type Supervisor,
  type SupervisorSpec,
} from '../../../src/index.js';
import { workerMachine } from '../../support/actors.js';
import { StartHarness, flush, recordTelemetry } from '../../support/supervision.js';

// OTP: a supervisor's children are linked to it, so nothing it started outlives it. Here a start
// can still be in flight when the supervisor exits (it is killed by its parent after its shutdown
// time, or stopped); whatever that start produces later is stopped on arrival, and the caller
// waiting on it is told at once that the supervisor is gone (`not_running`, as a call to a dead
// OTP supervisor fails).

async function withHarness(spec: Omit<SupervisorSpec, 'children'>, children: (harness: StartHarness) => SupervisorSpec['children']) {
  const recorded = recordTelemetry();
  const harness = new StartHarness();
  const supervisor = await startSupervisor(
    { intensity: 5, period: 10_000, ...spec, children: children(harness) },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor };
}

/** What a promise has come to so far: its value, its rejection, or 'pending'. */
async function outcomeOf<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  const settled = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return Promise.race([settled, flush().then(() => 'pending' as const)]);
}

describe('a start that resolves after the supervisor exited is stopped at once', () => {
  it('startChild in flight when the supervisor is killed: the caller gets not_running at once, the late actor is stopped', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const starting = supervisor.startChild(harness.child('late', { deferred: true }));
    await flush();
    expect(harness.pendingChildren()).toEqual(['late']);
    supervisor.ref.stop();
    const outcome = await outcomeOf(starting);
    expect(outcome).not.toBe('pending');
    expect(isSupervisorError((outcome as { error: unknown }).error, 'not_running')).toBe(true);
    expect(await supervisor.exited).toBe('shutdown');
    harness.settleChild('late', 'running');
    await flush();
    expect(harness.produced).toHaveLength(2);
    expect(harness.running()).toEqual([]);
  });

  it('restartChild in flight when the supervisor is killed: the caller gets not_running, the late actor is stopped', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a'), h.child('b')]);
    await supervisor.terminateChild('b');
    harness.setDeferred('b', true);
    const restarting = supervisor.restartChild('b');
    await flush();
    supervisor.ref.stop();
    expect(await outcomeOf(restarting)).toMatchObject({ error: { code: 'not_running', childId: 'b' } });
    harness.settleChild('b', 'running');
    await flush();
    expect(harness.running()).toEqual([]);
  });

  it('a restart in flight when the supervisor is killed never attaches its actor', async () => {
    const { harness, supervisor, named } = await withHarness({}, (h) => [h.child('a'), h.child('b')]);
    harness.setDeferred('b', true);
    harness.produced[1]!.send({ type: 'CRASH' });
    await flush();
    expect(harness.pendingChildren()).toEqual(['b']);
    supervisor.ref.stop();
    await flush();
    const startedBefore = named('supervisor.child.started').length;
    harness.settleChild('b', 'running');
    await flush();
    expect(harness.running()).toEqual([]);
    expect(named('supervisor.child.started')).toHaveLength(startedBefore);
    expect(supervisor.countChildren().active).toBe(0);
  });

  it('a start that rejects after the supervisor was killed settles its caller with not_running, not start_failed', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const starting = supervisor.startChild(harness.child('late', { deferred: true }));
    await flush();
    supervisor.ref.stop();
    harness.settleChild('late', 'reject');
    await expect(starting).rejects.toMatchObject({ code: 'not_running', childId: 'late' });
  });

  it('requests queued behind the start in flight are refused not_running once the supervisor is killed', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const starting = supervisor.startChild(harness.child('late', { deferred: true }));
    const queued = supervisor.startChild(harness.child('next'));
    const terminating = supervisor.terminateChild('a');
    await flush();
    supervisor.ref.stop();
    await expect(starting).rejects.toMatchObject({ code: 'not_running' });
    await expect(queued).rejects.toMatchObject({ code: 'not_running' });
    await expect(terminating).rejects.toMatchObject({ code: 'not_running' });
    expect(harness.startCount('next')).toBe(0);
  });

  it('a group restart waiting on a graceful stop starts nothing once the supervisor is killed', async () => {
    const { harness, supervisor, clock } = await withHarness({ strategy: 'one_for_all' }, (h) => [
      h.child('a'),
      h.child('slow', { drainMs: 300, shutdown: 1000 }),
    ]);
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    expect(harness.produced[1]!.getSnapshot().value).toBe('draining');
    supervisor.ref.stop();
    await flush();
    clock.advance(1000);
    await flush();
    expect(harness.startCount('a')).toBe(1);
    expect(harness.startCount('slow')).toBe(1);
    expect(harness.running()).toEqual([]);
  });

  it('stop() while a start is in flight waits for it, then stops the actor it produced', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const starting = supervisor.startChild(harness.child('late', { deferred: true }));
    await flush();
    const stopping = supervisor.stop();
    expect(await outcomeOf(stopping)).toBe('pending');
    harness.settleChild('late', 'running');
    const started = await starting;
    await stopping;
    expect(started.getSnapshot().status).not.toBe('active');
    expect(harness.running()).toEqual([]);
    expect(await supervisor.exited).toBe('normal');
  });
});

describe('a nested supervisor dies with its parent', () => {
  it('a nested supervisor whose start resolves after its parent was killed is stopped with its whole subtree', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const team = supervisorChild('team', { children: [harness.child('w0'), harness.child('w', { deferred: true }), harness.child('w2')] });
    const starting = supervisor.startChild(team);
    await flush();
    expect(harness.pendingChildren()).toEqual(['w']);
    supervisor.ref.stop();
    await expect(starting).rejects.toMatchObject({ code: 'not_running' });
    harness.settleChild('w', 'running');
    await flush();
    expect(harness.running()).toEqual([]);
  });

  it('a nested supervisor still starting its children when its parent is killed is killed with it', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const team = supervisorChild('team', { children: [harness.child('w0'), harness.child('w', { deferred: true }), harness.child('w2')] });
    void supervisor.startChild(team).catch(() => undefined);
    await flush();
    supervisor.ref.stop();
    await flush();
    // The grandchild start never settles; the grandchild already started must not wait for it.
    expect(harness.running()).toEqual([]);
    expect(harness.startCount('w2')).toBe(0);
  });
});

describe('every wait on a start has an end', () => {
  it('stop() stuck behind a start that never settles is ended by a kill, and the caller of the start by not_running', async () => {
    const { harness, supervisor } = await withHarness({}, (h) => [h.child('a')]);
    const starting = supervisor.startChild(harness.child('never', { deferred: true }));
    await flush();
    const stopping = supervisor.stop();
    expect(await outcomeOf(stopping)).toBe('pending');
    supervisor.ref.stop();
    expect(await outcomeOf(stopping)).toEqual({ value: undefined });
    await expect(starting).rejects.toMatchObject({ code: 'not_running' });
    expect(harness.running()).toEqual([]);
  });

  it('a start that kills its own supervisor gets not_running, and the actor it returns is stopped', async () => {
    const recorded = recordTelemetry();
    const supervisor: Supervisor = await startSupervisor({ children: [] }, { clock: recorded.clock, telemetry: recorded.telemetry });
    const actor = createActor(workerMachine()).start();
    const starting = supervisor.startChild({
      id: 'suicidal',
      start: () => {
        supervisor.ref.stop();
        return actor;
      },
    });
    await expect(starting).rejects.toMatchObject({ code: 'not_running', childId: 'suicidal' });
    expect(await supervisor.exited).toBe('shutdown');
    expect(actor.getSnapshot().status).toBe('stopped');
    expect(supervisor.countChildren().active).toBe(0);
  });

  it('a dynamic supervisor killed with a start in flight: the caller gets not_running, the late actor is stopped', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const dynamic = await startDynamicSupervisor({ clock: recorded.clock, telemetry: recorded.telemetry });
    const late = harness.child('late', { deferred: true });
    const starting = dynamic.startChild({ start: late.start });
    await flush();
    dynamic.ref.stop();
    await expect(starting).rejects.toMatchObject({ code: 'not_running' });
    harness.settleChild('late', 'running');
    await flush();
    expect(harness.produced).toHaveLength(1);
    expect(harness.running()).toEqual([]);
  });
});

describe("a start's signal is aborted when its supervisor exits", () => {
  it('aborts with not_running on a kill and on a stop', async () => {
    for (const end of ['kill', 'stop'] as const) {
      const contexts: StartContext[] = [];
      const harness = new StartHarness();
      const child = harness.child('a');
      const { supervisor } = await withHarness({}, () => [{ ...child, start: (context) => (contexts.push(context), child.start(context)) }]);
      expect(contexts[0]!.signal.aborted).toBe(false);
      if (end === 'kill') supervisor.ref.stop();
      else await supervisor.stop();
      expect(contexts[0]!.signal.aborted).toBe(true);
      expect(isSupervisorError(contexts[0]!.signal.reason, 'not_running')).toBe(true);
    }
  });

  it('a nested supervisor leaves no listener on its parent signal once started, however often it is restarted', async () => {
    const contexts: StartContext[] = [];
    const harness = new StartHarness();
    const team = supervisorChild('team', { intensity: 0, children: [harness.child('w')] });
    const { supervisor } = await withHarness({ intensity: 50 }, () => [{ ...team, start: (context) => (contexts.push(context), team.start(context)) }]);
    for (let crash = 0; crash < 5; crash += 1) {
      harness.produced.at(-1)!.send({ type: 'CRASH' });
      await flush();
    }
    expect(contexts).toHaveLength(6);
    expect(getEventListeners(contexts[0]!.signal, 'abort')).toHaveLength(0);
    await supervisor.stop();
    expect(harness.running()).toEqual([]);
  });
});
