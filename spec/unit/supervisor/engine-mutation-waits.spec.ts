import { describe, expect, it } from 'vitest';
import { startSupervisor, type Backoff, type ChildSpec, type SupervisorSpec } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry, startTimes } from '../../support/supervision.js';

// Group restarts and the waits of restarts under backoff: when a group restart is counted, which
// wait a failing group joins, and that a wait nobody waits for any more leaves no timer behind.

const after = (ms: number): Backoff => ({ minMs: ms, maxMs: ms, randomFactor: 0 });

async function supervised(spec: Omit<SupervisorSpec, 'children'>, children: (harness: ChildHarness) => ChildSpec[]) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    { intensity: 100, period: 60_000, ...spec, children: children(harness) },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor, starts: (id: string) => startTimes(recorded, id) };
}

describe('a group restart without backoff', () => {
  it('counts against the intensity when the child fails, not when its group has finished stopping', async () => {
    const { supervisor, harness, clock } = await supervised({ strategy: 'one_for_all', intensity: 1, period: 1000 }, (h) => [
      h.child('a'),
      h.child('b', { shutdown: 1000, drainMs: 500 }),
    ]);
    harness.crash('a'); // counted at 0; b drains until 500
    await flush();
    clock.advance(500);
    await flush();
    expect([harness.startCount('a'), harness.startCount('b')]).toEqual([2, 2]);
    clock.advance(700);
    harness.crash('b'); // at 1200 the restart at 0 has left the window: one restart in it
    await flush();
    expect([harness.startCount('a'), harness.startCount('b')]).toEqual([3, 3]);
    expect(supervisor.whichChildren().every((child) => child.ref !== undefined)).toBe(true);
    const stopping = supervisor.stop();
    clock.advance(500);
    await stopping;
  });
});

describe('a failure inside a group that waits for its backoff', () => {
  it('joins the wait of the group instead of restarting the group at once', async () => {
    const { supervisor, harness, clock, starts } = await supervised({ strategy: 'one_for_all' }, (h) => [h.child('a', { backoff: after(100) }), h.child('b')]);
    harness.crash('a');
    await flush();
    await supervisor.restartChild('b');
    harness.crash('b'); // b has no backoff, but a still waits: b waits with it
    await flush();
    expect(supervisor.whichChildren().map(({ id, restarting, nextRestartAt }) => ({ id, restarting, nextRestartAt }))).toEqual([
      { id: 'a', restarting: true, nextRestartAt: 100 },
      { id: 'b', restarting: true, nextRestartAt: 100 },
    ]);
    clock.advance(99);
    expect([harness.startCount('a'), harness.startCount('b')]).toEqual([1, 2]);
    clock.advance(1);
    expect(starts('a')).toEqual([0, 100]);
    expect(starts('b')).toEqual([0, 0, 100]);
    await supervisor.stop();
  });

  it('keeps the wait for the members still in it when one of them is restarted by hand', async () => {
    const { supervisor, harness, clock, starts } = await supervised({ strategy: 'one_for_all' }, (h) => [
      h.child('a', { backoff: after(100) }),
      h.child('b'),
      h.child('c'),
    ]);
    harness.crash('a');
    await flush();
    await supervisor.restartChild('b');
    harness.crash('b'); // joins the wait of a and c
    await flush();
    await supervisor.restartChild('a'); // a leaves the wait; b and c still wait for it
    clock.advance(100);
    expect(starts('a')).toEqual([0, 0]);
    expect(starts('b')).toEqual([0, 0, 100]);
    expect(starts('c')).toEqual([0, 100]);
    await supervisor.stop();
  });

  it('joins the earliest of the waits its members are in', async () => {
    const { supervisor, harness, clock, starts } = await supervised({ strategy: 'rest_for_one' }, (h) => [
      h.child('a'),
      h.child('b', { backoff: after(1000) }),
      h.child('c', { backoff: after(100) }),
    ]);
    harness.crash('b'); // b and c wait until 1000
    await flush();
    await supervisor.restartChild('c');
    harness.crash('c'); // c alone waits until 100
    await flush();
    expect(supervisor.whichChildren().map((child) => child.nextRestartAt)).toEqual([undefined, 1000, 100]);
    harness.crash('a'); // a's group holds both waits: it joins the one due at 100
    await flush();
    clock.advance(100);
    expect(starts('a')).toEqual([0, 100]);
    expect(starts('b')).toEqual([0, 100]);
    expect(starts('c')).toEqual([0, 0, 100]);
    clock.advance(900);
    expect(starts('b')).toEqual([0, 100]);
    await supervisor.stop();
  });
});

describe('a kill while a group is being stopped to wait for its backoff', () => {
  it('leaves nothing waiting: no child shown restarting, no timer, no backoff event', async () => {
    const { supervisor, harness, clock, named } = await supervised({ strategy: 'one_for_all' }, (h) => [
      h.child('a', { backoff: after(100) }),
      h.child('b', { shutdown: 1000, drainMs: 'never' }),
    ]);
    harness.crash('a');
    await flush();
    expect(harness.actor('b').getSnapshot().value).toBe('draining');
    supervisor.ref.stop();
    await flush();
    expect(await supervisor.exited).toBe('shutdown');
    expect(supervisor.whichChildren().some((child) => child.restarting)).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    expect(named('supervisor.child.backoff')).toEqual([]);
  });
});

describe('a wait that nobody waits for any more', () => {
  it('leaves the queue with its timer when its child is restarted by hand', async () => {
    const { supervisor, harness, clock } = await supervised({}, (h) => [h.child('a', { backoff: after(100) })]);
    harness.crash('a');
    await flush();
    expect(clock.pendingTimers()).toBe(1);
    await supervisor.restartChild('a');
    expect(clock.pendingTimers()).toBe(0);
    await supervisor.stop();
  });

  it('is not held by a temporary member of the group, which is dropped instead of waiting', async () => {
    const { supervisor, harness, clock } = await supervised({ strategy: 'one_for_all' }, (h) => [
      h.child('a', { backoff: after(100) }),
      h.child('t', { restart: 'temporary' }),
    ]);
    harness.crash('a');
    await flush();
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a']);
    await supervisor.restartChild('a');
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(100);
    expect(harness.startCount('t')).toBe(1);
    await supervisor.stop();
  });
});
