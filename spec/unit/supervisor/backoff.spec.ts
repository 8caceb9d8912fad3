import { describe, expect, it } from 'vitest';
import {
  isConfigError,
  startDynamicSupervisor,
  startSupervisor,
  supervisorChild,
  supervisorOf,
  type Backoff,
  type ChildSpec,
  type Supervisor,
  type SupervisorOptions,
  type SupervisorSpec,
} from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { StartHarness, flush, recordTelemetry, startTimes } from '../../support/supervision.js';

// Restart with backoff (issue 12). Every delay runs on the test clock; `randomFactor: 0` (or a
// pinned `random`) makes each delay exact, so a spec can say to the millisecond when a child starts.

const exact: Backoff = { minMs: 100, maxMs: 1000, randomFactor: 0 };

async function supervised(
  spec: Omit<SupervisorSpec, 'children'>,
  children: (harness: ChildHarness) => ChildSpec[],
  options: Omit<SupervisorOptions, 'clock' | 'telemetry'> = {},
) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    { intensity: 100, period: 60_000, ...spec, children: children(harness) },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry, ...options },
  );
  return { ...recorded, harness, supervisor, starts: (id: string) => startTimes(recorded, id) };
}

const state = (promise: Promise<unknown>) => Promise.race([promise, flush().then(() => 'running')]);

async function configOption(act: () => Promise<unknown>): Promise<string> {
  let returned: Promise<unknown> | undefined;
  expect(() => (returned = act()), 'threw synchronously instead of rejecting').not.toThrow();
  const error = await returned!.then(
    () => new Error('resolved instead of rejecting'),
    (caught: unknown) => caught,
  );
  if (!isConfigError(error)) throw error;
  return error.option;
}

describe('exact delays: the n-th consecutive restart waits min(maxMs, minMs·2ⁿ)', () => {
  it('restarts a crashed child after 100, 200, 400, 800, 1000, 1000 ms, never earlier', async () => {
    const { harness, clock, starts } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    const expected = [0];
    for (const delay of [100, 200, 400, 800, 1000, 1000]) {
      harness.crash('a');
      await flush();
      clock.advance(delay - 1);
      expect(harness.startCount('a'), `not yet after ${delay - 1} ms`).toBe(expected.length);
      clock.advance(1);
      expected.push(clock.now());
      expect(starts('a')).toEqual(expected);
    }
  });

  it('without backoff a child is restarted at once, exactly as before', async () => {
    const { harness, starts } = await supervised({}, (h) => [h.child('a')]);
    harness.crash('a');
    await flush();
    expect(starts('a')).toEqual([0, 0]);
  });

  it('takes the supervisor spec backoff as the default for its children; a child’s own wins', async () => {
    const { harness, clock, starts } = await supervised({ backoff: exact }, (h) => [
      h.child('inherits'),
      h.child('own', { backoff: { minMs: 30, maxMs: 30, randomFactor: 0 } }),
    ]);
    harness.crash('inherits');
    harness.crash('own');
    await flush();
    clock.advance(100);
    expect(starts('own')).toEqual([0, 30]);
    expect(starts('inherits')).toEqual([0, 100]);
  });

  it('applies the supervisor default to children added with startChild', async () => {
    const { harness, clock, supervisor, starts } = await supervised({ backoff: exact }, () => []);
    await supervisor.startChild(harness.child('late'));
    harness.crash('late');
    await flush();
    clock.advance(99);
    expect(starts('late')).toEqual([0]);
    clock.advance(1);
    expect(starts('late')).toEqual([0, 100]);
  });
});

describe('jitter: the delay is multiplied by (1 + u·randomFactor), u from the `random` option', () => {
  it('a pinned random source gives an exact jittered delay', async () => {
    const { harness, clock, starts } = await supervised(
      {},
      (h) => [h.child('a', { backoff: { minMs: 100, maxMs: 1000, randomFactor: 0.5 } })],
      { random: () => 0.5 },
    );
    harness.crash('a');
    await flush();
    clock.advance(124);
    expect(starts('a')).toEqual([0]);
    clock.advance(1);
    expect(starts('a')).toEqual([0, 125]);
  });

  it('with the default Math.random every delay lies in [base, base × (1 + randomFactor))', async () => {
    const { harness, clock, named } = await supervised({}, (h) => [
      h.child('a', { backoff: { minMs: 100, maxMs: 400, randomFactor: 0.3, resetAfterMs: 60_000 } }),
    ]);
    for (let crash = 0; crash < 6; crash += 1) {
      harness.crash('a');
      await flush();
      clock.advance(600);
    }
    const delays = named('supervisor.child.backoff').map((event) => event.measurements.delay!);
    const bases = [100, 200, 400, 400, 400, 400];
    expect(delays).toHaveLength(6);
    delays.forEach((delay, index) => {
      expect(delay).toBeGreaterThanOrEqual(bases[index]!);
      expect(delay).toBeLessThan(bases[index]! * 1.3);
    });
  });
});

describe('reset: a child that has stayed up resetAfterMs starts again at minMs', () => {
  it('goes back to minMs after staying up resetAfterMs, and keeps growing when it fails sooner', async () => {
    const { harness, clock, named } = await supervised({}, (h) => [h.child('a', { backoff: { ...exact, resetAfterMs: 5000 } })]);
    const delays = () => named('supervisor.child.backoff').map((event) => event.measurements.delay);
    harness.crash('a');
    await flush();
    clock.advance(100);
    clock.advance(4999); // up 4999 ms: not long enough
    harness.crash('a');
    await flush();
    clock.advance(200);
    clock.advance(5000); // up exactly resetAfterMs
    harness.crash('a');
    await flush();
    expect(delays()).toEqual([100, 200, 100]);
  });

  it('uses (minMs + maxMs) / 2 when resetAfterMs is not given', async () => {
    const { harness, clock, named } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    clock.advance(100 + 549);
    harness.crash('a');
    await flush();
    clock.advance(200 + 550);
    harness.crash('a');
    await flush();
    expect(named('supervisor.child.backoff').map((event) => event.measurements.delay)).toEqual([100, 200, 100]);
  });
});

describe('a child waiting for its restart', () => {
  it('has no ref, restarting: true and nextRestartAt in whichChildren, and is not active in countChildren', async () => {
    const { harness, clock, supervisor } = await supervised({}, (h) => [h.child('a', { backoff: exact }), h.child('b')]);
    clock.advance(1000);
    harness.crash('a');
    await flush();
    expect(supervisor.whichChildren()[0]).toEqual({ id: 'a', ref: undefined, type: 'worker', restart: 'permanent', restarting: true, nextRestartAt: 1100 });
    expect(supervisor.whichChildren()[1]).not.toHaveProperty('restarting');
    expect(supervisor.countChildren()).toEqual({ specs: 2, active: 1, supervisors: 0, workers: 2 });
    clock.advance(100);
    expect(supervisor.whichChildren()[0]).toMatchObject({ id: 'a', ref: harness.actor('a') });
    expect(supervisor.whichChildren()[0]).not.toHaveProperty('restarting');
    expect(supervisor.whichChildren()[0]).not.toHaveProperty('nextRestartAt');
    expect(supervisor.countChildren().active).toBe(2);
  });

  it('emits supervisor.child.backoff with the delay and the attempt (1 for the first restart of a run of failures)', async () => {
    const { harness, clock, named } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    clock.advance(100);
    harness.crash('a');
    await flush();
    expect(named('supervisor.child.backoff').map((event) => [event.measurements, event.metadata])).toEqual([
      [{ delay: 100 }, { supervisor: 'sup', child: 'a', attempt: 1 }],
      [{ delay: 200 }, { supervisor: 'sup', child: 'a', attempt: 2 }],
    ]);
  });
});

describe('terminateChild during the wait cancels the pending restart for good', () => {
  it('the child stays terminated however long the clock runs', async () => {
    const { harness, clock, supervisor, starts } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    await supervisor.terminateChild('a');
    expect(supervisor.whichChildren()).toEqual([{ id: 'a', ref: undefined, type: 'worker', restart: 'permanent' }]);
    clock.advance(100_000);
    await flush();
    expect(starts('a')).toEqual([0]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('deleteChild after terminateChild works as before; deleteChild during the wait is refused restarting', async () => {
    const { harness, supervisor } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    await expect(supervisor.deleteChild('a')).rejects.toMatchObject({ code: 'restarting', childId: 'a' });
    await supervisor.terminateChild('a');
    await supervisor.deleteChild('a');
    expect(supervisor.whichChildren()).toEqual([]);
  });

  it('terminate, then restartChild, then a crash: the old wait never starts it, the new one does, continuing the count', async () => {
    const { harness, clock, supervisor, starts } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a'); // wait 1: due at 100
    await flush();
    clock.advance(50);
    await supervisor.terminateChild('a');
    await supervisor.restartChild('a'); // started at 50
    clock.advance(10);
    harness.crash('a'); // wait 2: 200 ms, due at 260
    await flush();
    clock.advance(1000);
    expect(starts('a')).toEqual([0, 50, 260]);
  });

  it('a dynamic child terminated during its wait is forgotten and never started again', async () => {
    const recorded = recordTelemetry();
    const harness = new ChildHarness();
    const dynamic = await startDynamicSupervisor({ id: 'dyn', clock: recorded.clock, telemetry: recorded.telemetry, backoff: exact });
    await dynamic.startChild(harness.child('w'));
    harness.crash('w');
    await flush();
    expect(dynamic.whichChildren()).toMatchObject([{ id: 'w', restarting: true, nextRestartAt: 100 }]);
    await dynamic.terminateChild('w');
    recorded.clock.advance(10_000);
    expect(dynamic.whichChildren()).toEqual([]);
    expect(harness.startCount('w')).toBe(1);
  });
});

describe('restartChild during the wait restarts the child now', () => {
  it('starts it at once, counts no restart, and the pending restart never fires', async () => {
    const { harness, clock, supervisor, starts, named } = await supervised({ intensity: 1 }, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    clock.advance(30);
    const ref = await supervisor.restartChild('a');
    expect(ref).toBe(harness.actor('a'));
    clock.advance(10_000);
    expect(starts('a')).toEqual([0, 30]);
    expect(named('supervisor.child.restarted')).toEqual([]);
    // The intensity window holds nothing from the hand restart: one more crash is still allowed.
    harness.crash('a');
    await flush();
    clock.advance(10_000);
    expect(await state(supervisor.exited)).toBe('running');
  });

  it('keeps the backoff count: a crash right after a hand restart waits the next delay', async () => {
    const { harness, clock, supervisor, named } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    await supervisor.restartChild('a');
    harness.crash('a');
    await flush();
    expect(named('supervisor.child.backoff').map((event) => event.measurements.delay)).toEqual([100, 200]);
    clock.advance(200);
    expect(harness.startCount('a')).toBe(3);
  });

  it('a hand restart that fails leaves the child waiting, and it is restarted when its delay falls due', async () => {
    const { harness, clock, supervisor, starts } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    harness.failNextStarts('a', 1);
    await expect(supervisor.restartChild('a')).rejects.toMatchObject({ code: 'start_failed', childId: 'a' });
    expect(supervisor.whichChildren()[0]).toMatchObject({ restarting: true, nextRestartAt: 100 });
    clock.advance(100);
    expect(starts('a')).toEqual([0, 100]);
  });
});

describe('stop() cancels every pending restart and starts nothing afterwards', () => {
  it('no child waiting when stop() is called is ever started, and no timer is left', async () => {
    const { harness, clock, supervisor, starts } = await supervised({}, (h) => [
      h.child('a', { backoff: exact }),
      h.child('b', { backoff: exact }),
    ]);
    harness.crash('a');
    harness.crash('b');
    await flush();
    await supervisor.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(10_000);
    expect(starts('a')).toEqual([0]);
    expect(starts('b')).toEqual([0]);
    expect(supervisor.whichChildren().map((child) => child.restarting)).toEqual([undefined, undefined]);
  });

  it('a restart fallen due while the mailbox is busy is not performed once stop() has been called', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      { intensity: 10, period: 60_000, children: [harness.child('a', { backoff: exact })] },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    // A start in flight holds the mailbox while a's delay falls due: its restart waits its turn.
    const starting = supervisor.startChild(harness.child('slow', { deferred: true }));
    await flush();
    recorded.clock.advance(100);
    const stopping = supervisor.stop();
    harness.settleChild('slow', 'running');
    await starting;
    await stopping;
    expect(harness.startCount('a')).toBe(1);
    expect(harness.running()).toEqual([]);
  });

  it('a timer due in the same tick as stop() starts nothing', async () => {
    const { harness, clock, supervisor, starts } = await supervised({}, (h) => [h.child('a', { backoff: exact })]);
    harness.crash('a');
    await flush();
    clock.advance(99);
    const stopping = supervisor.stop();
    clock.advance(1);
    await stopping;
    clock.advance(1000);
    expect(starts('a')).toEqual([0]);
  });
});

describe('group strategies: the group is stopped at once and restarted after the failing child’s delay', () => {
  it('one_for_all: the siblings stop at once, the whole group starts in order after the delay, as one restart', async () => {
    const { harness, clock, trail, named, supervisor } = await supervised({ strategy: 'one_for_all' }, (h) => [
      h.child('a'),
      h.child('b', { backoff: exact }),
      h.child('c'),
    ]);
    harness.crash('b');
    await flush();
    expect(trail().slice(3)).toEqual(['exited b error', 'exited c shutdown', 'exited a shutdown']);
    expect(supervisor.whichChildren().map((child) => [child.id, child.restarting, child.nextRestartAt])).toEqual([
      ['a', true, 100],
      ['b', true, 100],
      ['c', true, 100],
    ]);
    clock.advance(99);
    expect(trail()).toHaveLength(6);
    clock.advance(1);
    expect(trail().slice(6)).toEqual(['started a', 'restarted a', 'started b', 'restarted b', 'started c', 'restarted c']);
    expect(named('supervisor.child.restarted').map((event) => event.measurements.restarts)).toEqual([1, 1, 1]);
  });

  it('rest_for_one: the failed child and those after it wait, those before keep running', async () => {
    const { harness, clock, starts } = await supervised({ strategy: 'rest_for_one' }, (h) => [
      h.child('a'),
      h.child('b', { backoff: exact }),
      h.child('c'),
    ]);
    harness.crash('b');
    await flush();
    expect(harness.actor('a').getSnapshot().status).toBe('active');
    expect(harness.actor('c').getSnapshot().status).toBe('stopped');
    clock.advance(100);
    expect([starts('a'), starts('b'), starts('c')]).toEqual([[0], [0, 100], [0, 100]]);
  });

  it('a failure inside the group during the wait joins the pending restart instead of scheduling a second one', async () => {
    const { harness, clock, supervisor, named, starts } = await supervised({ strategy: 'one_for_all' }, (h) => [
      h.child('a', { backoff: exact }),
      h.child('b'),
    ]);
    harness.crash('a');
    await flush();
    clock.advance(10);
    await supervisor.startChild(harness.child('c', { backoff: exact }));
    clock.advance(10);
    harness.crash('c');
    await flush();
    expect(named('supervisor.child.backoff')).toHaveLength(1);
    expect(supervisor.whichChildren().map((child) => child.nextRestartAt)).toEqual([100, 100, 100]);
    clock.advance(1000);
    expect([starts('a'), starts('b'), starts('c')]).toEqual([[0, 100], [0, 100], [10, 100]]);
    expect(named('supervisor.child.restarted').map((event) => event.measurements.restarts)).toEqual([1, 1, 1]);
  });

  it('rest_for_one: a crash before the waiting group takes it along in one pending restart', async () => {
    const { harness, clock, named, starts } = await supervised({ strategy: 'rest_for_one' }, (h) => [
      h.child('a', { backoff: exact }),
      h.child('b', { backoff: exact }),
      h.child('c'),
    ]);
    harness.crash('b'); // b and c wait until 100
    await flush();
    clock.advance(50);
    harness.crash('a'); // a joins them
    await flush();
    expect(named('supervisor.child.backoff')).toHaveLength(1);
    clock.advance(1000);
    expect([starts('a'), starts('b'), starts('c')]).toEqual([[0, 100], [0, 100], [0, 100]]);
  });

  it('terminateChild of one member during the group wait keeps that member terminated; the rest restart', async () => {
    const { harness, clock, supervisor, starts } = await supervised({ strategy: 'one_for_all' }, (h) => [
      h.child('a', { backoff: exact }),
      h.child('b'),
    ]);
    harness.crash('a');
    await flush();
    await supervisor.terminateChild('b');
    clock.advance(100);
    expect([starts('a'), starts('b')]).toEqual([[0, 100], [0]]);
  });

  it('restartChild of one member during the group wait starts that member now; the rest wait', async () => {
    const { harness, clock, supervisor, starts } = await supervised({ strategy: 'one_for_all' }, (h) => [
      h.child('a', { backoff: exact }),
      h.child('b'),
    ]);
    harness.crash('a');
    await flush();
    clock.advance(20);
    await supervisor.restartChild('b');
    clock.advance(80);
    expect([starts('a'), starts('b')]).toEqual([[0, 100], [0, 20]]);
  });
});

describe('intensity is independent of backoff: a restart counts when it is performed', () => {
  it('escalates when the performed restarts exceed intensity within period', async () => {
    const { harness, clock, supervisor, named } = await supervised({ intensity: 2, period: 1000 }, (h) => [
      h.child('a', { backoff: exact }),
      h.child('b'),
    ]);
    harness.crash('a');
    await flush();
    clock.advance(100); // restart 1 at 100
    harness.crash('a');
    await flush();
    clock.advance(200); // restart 2 at 300
    harness.crash('a');
    await flush();
    // The third restart is due at 700: until then nothing has been counted for it.
    clock.advance(399);
    expect(await state(supervisor.exited)).toBe('running');
    clock.advance(1);
    expect(await state(supervisor.exited)).toBe('shutdown');
    expect(named('supervisor.shutdown').map((event) => [event.time, event.metadata.reason])).toEqual([[700, 'intensity']]);
    expect(harness.startCount('a')).toBe(3);
    expect(harness.actor('b').getSnapshot().status).toBe('stopped');
  });

  it('restarts spread by a clock jump are each counted at their own due time', async () => {
    const { harness, clock, supervisor, starts } = await supervised({ intensity: 1, period: 100 }, (h) => [
      h.child('a', { backoff: { minMs: 150, maxMs: 150, randomFactor: 0 } }),
      h.child('b', { backoff: { minMs: 300, maxMs: 300, randomFactor: 0 } }),
      h.child('c', { backoff: { minMs: 450, maxMs: 450, randomFactor: 0 } }),
    ]);
    harness.crash('a');
    harness.crash('b');
    harness.crash('c');
    await flush();
    clock.advance(10_000);
    expect([starts('a'), starts('b'), starts('c')]).toEqual([[0, 150], [0, 300], [0, 450]]);
    expect(await state(supervisor.exited)).toBe('running');
  });

  it('a start that throws continues the backoff count, and its repeats still escalate', async () => {
    const { harness, clock, supervisor, named } = await supervised({ intensity: 4, period: 60_000 }, (h) => [
      h.child('a', { backoff: { minMs: 100, maxMs: 100_000, randomFactor: 0 } }),
    ]);
    harness.failNextStarts('a', 100);
    harness.crash('a');
    await flush();
    clock.advance(100 + 200 + 400 + 800);
    expect(named('supervisor.child.backoff').map((event) => event.measurements.delay)).toEqual([100, 200, 400, 800, 1600]);
    expect(named('supervisor.child.start_failed').map((event) => event.time)).toEqual([100, 300, 700, 1500]);
    expect(supervisor.whichChildren()[0]).toMatchObject({ restarting: true, nextRestartAt: 3100 });
    expect(await state(supervisor.exited)).toBe('running');
    clock.advance(1600); // the fifth restart within the period
    expect(await state(supervisor.exited)).toBe('shutdown');
  });
});

describe("autoShutdown: a significant child waiting for its restart is alive (OTP's {restarting, _})", () => {
  it("does not shut down under 'all_significant' while a significant child waits, and does once it ends for good", async () => {
    const { harness, clock, supervisor } = await supervised({ autoShutdown: 'all_significant' }, (h) => [
      h.child('sig1', { restart: 'transient', significant: true, backoff: exact }),
      h.child('sig2', { restart: 'transient', significant: true }),
    ]);
    harness.crash('sig1');
    await flush();
    harness.finish('sig2');
    await flush();
    expect(await state(supervisor.exited)).toBe('running');
    clock.advance(100);
    harness.finish('sig1');
    await flush();
    expect(await state(supervisor.exited)).toBe('shutdown');
  });
});

describe('one clock timer per supervisor for every pending restart', () => {
  it('50 children waiting with different delays hold one timer, re-armed to the earliest', async () => {
    const { harness, clock, supervisor } = await supervised({}, (h) =>
      Array.from({ length: 50 }, (_, index) => h.child(`w${index}`, { backoff: { minMs: 1000 - index * 10, maxMs: 5000, randomFactor: 0 } })),
    );
    for (let index = 0; index < 50; index += 1) harness.crash(`w${index}`);
    await flush();
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(510);
    clock.advance(600);
    expect(clock.pendingTimers()).toBe(1);
    expect(supervisor.countChildren().active).toBe(10);
    clock.advance(400);
    expect(clock.pendingTimers()).toBe(0);
    expect(supervisor.countChildren().active).toBe(50);
  });
});

describe('starts that do not settle', () => {
  it('a restart whose start never settles holds the mailbox; later dues wait their turn, and a kill starts none of them', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      { intensity: 10, period: 60_000, children: [harness.child('a', { backoff: exact }), harness.child('b', { backoff: exact })] },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.setDeferred('a', true);
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    recorded.clock.advance(100); // a's restart starts and hangs
    expect(harness.pendingChildren()).toEqual(['a']);
    harness.produced[1]!.send({ type: 'CRASH' });
    await flush();
    recorded.clock.advance(1000); // b's delay falls due behind it
    expect(harness.startCount('b')).toBe(1);
    supervisor.ref.stop();
    expect(await supervisor.exited).toBe('shutdown');
    harness.settleChild('a', 'running');
    await flush();
    recorded.clock.advance(10_000);
    expect(harness.startCount('b')).toBe(1);
    expect(harness.running()).toEqual([]);
  });
});

describe('backoff on a nested supervisor', () => {
  it('a nested supervisor that gives up is restarted by its parent after the delay; stop() during the wait starts nothing', async () => {
    const recorded = recordTelemetry();
    const harness = new ChildHarness();
    const root = await startSupervisor(
      {
        intensity: 5,
        period: 60_000,
        children: [supervisorChild('team', { intensity: 0, children: [harness.child('worker')] }, { backoff: exact })],
      },
      { id: 'root', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    const first = supervisorOf(root.whichChildren()[0]!.ref) as Supervisor;
    harness.crash('worker');
    await flush();
    expect(await first.exited).toBe('shutdown');
    expect(root.whichChildren()[0]).toMatchObject({ id: 'team', ref: undefined, restarting: true, nextRestartAt: 100 });
    recorded.clock.advance(100);
    const second = supervisorOf(root.whichChildren()[0]!.ref) as Supervisor;
    expect(second).not.toBe(first);
    expect(harness.startCount('worker')).toBe(2);
    harness.crash('worker');
    await flush();
    await root.stop();
    recorded.clock.advance(10_000);
    expect(harness.startCount('worker')).toBe(2);
  });

  it('a nested spec’s backoff is the default of the nested supervisor’s own children', async () => {
    const recorded = recordTelemetry();
    const harness = new ChildHarness();
    const root = await startSupervisor(
      { children: [supervisorChild('team', { backoff: exact, intensity: 5, children: [harness.child('worker')] })] },
      { id: 'root', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.crash('worker');
    await flush();
    const nested = supervisorOf(root.whichChildren()[0]!.ref) as Supervisor;
    expect(nested.whichChildren()[0]).toMatchObject({ restarting: true, nextRestartAt: 100 });
    recorded.clock.advance(100);
    expect(harness.startCount('worker')).toBe(2);
  });
});

describe('dynamic supervisors take backoff too', () => {
  it('as a default for their children and per child', async () => {
    const recorded = recordTelemetry();
    const harness = new ChildHarness();
    const dynamic = await startDynamicSupervisor({ id: 'dyn', intensity: 5, clock: recorded.clock, telemetry: recorded.telemetry, backoff: exact });
    await dynamic.startChild(harness.child('d'));
    await dynamic.startChild(harness.child('own', { backoff: { minMs: 40, maxMs: 40, randomFactor: 0 } }));
    harness.crash('d');
    harness.crash('own');
    await flush();
    recorded.clock.advance(40);
    expect([harness.startCount('d'), harness.startCount('own')]).toEqual([1, 2]);
    recorded.clock.advance(60);
    expect(harness.startCount('d')).toBe(2);
  });
});

describe('bad backoff options reject with ConfigError naming the option', () => {
  const child = (backoff: unknown) => new ChildHarness().child('x', { backoff: backoff as Backoff });
  const cases: [unknown, string][] = [
    [{ minMs: 0, maxMs: 10 }, 'minMs'],
    [{ minMs: -1, maxMs: 10 }, 'minMs'],
    [{ minMs: Number.NaN, maxMs: 10 }, 'minMs'],
    [{ minMs: Number.POSITIVE_INFINITY, maxMs: Number.POSITIVE_INFINITY }, 'minMs'],
    [{ maxMs: 10 }, 'minMs'],
    [{ minMs: 10, maxMs: 9 }, 'maxMs'],
    [{ minMs: 10 }, 'maxMs'],
    [{ minMs: 10, maxMs: Number.POSITIVE_INFINITY }, 'maxMs'],
    [{ minMs: 10, maxMs: 20, randomFactor: -0.1 }, 'randomFactor'],
    [{ minMs: 10, maxMs: 20, randomFactor: 1.5 }, 'randomFactor'],
    [{ minMs: 10, maxMs: 20, resetAfterMs: -1 }, 'resetAfterMs'],
    [{ minMs: 10, maxMs: 20, resetAfterMs: '5' }, 'resetAfterMs'],
  ];

  it.each(cases)('child backoff %j names backoff.%s', async (backoff, option) => {
    expect(await configOption(() => startSupervisor({ children: [child(backoff)] }))).toBe(`children[0].backoff.${option}`);
  });

  it('a backoff that is not an object, on a child, a supervisor spec, startChild and a dynamic supervisor', async () => {
    expect(await configOption(() => startSupervisor({ children: [child(100)] }))).toBe('children[0].backoff');
    expect(await configOption(() => startSupervisor({ backoff: { minMs: 5, maxMs: 1 }, children: [] }))).toBe('backoff.maxMs');
    expect(await configOption(() => startDynamicSupervisor({ backoff: { minMs: 0, maxMs: 1 } }))).toBe('backoff.minMs');
    const supervisor = await startSupervisor({ children: [] });
    expect(await configOption(() => supervisor.startChild(child({ minMs: 1, maxMs: 2, randomFactor: 2 })))).toBe('spec.backoff.randomFactor');
    const dynamic = await startDynamicSupervisor();
    expect(await configOption(() => dynamic.startChild({ start: child(null).start, backoff: 'fast' as never }))).toBe('spec.backoff');
    await supervisor.stop();
    await dynamic.stop();
  });

  it('a random option that is not a function', async () => {
    expect(await configOption(() => startSupervisor({ children: [] }, { random: 0.5 as never }))).toBe('random');
    expect(await configOption(() => startDynamicSupervisor({ random: 'x' as never }))).toBe('random');
  });

  it('supervisorChild throws ConfigError at once for a bad nested backoff or a bad backoff of its own', () => {
    expect(() => supervisorChild('team', { backoff: { minMs: 1, maxMs: 0 }, children: [] })).toThrow(/backoff\.maxMs/);
    let thrown: unknown;
    try {
      supervisorChild('team', { children: [] }, { backoff: { minMs: 0, maxMs: 1 } });
    } catch (error) {
      thrown = error;
    }
    expect(isConfigError(thrown) && thrown.option).toBe('options.backoff.minMs');
  });
});

describe('attacks on the waits', () => {
  it('a jitter source that throws counts as u = 0: the child is still restarted, after the unjittered delay', async () => {
    const warnings: unknown[] = [];
    const onWarning = (warning: unknown) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const { harness, clock, starts } = await supervised(
        {},
        (h) => [h.child('a', { backoff: { minMs: 100, maxMs: 100, randomFactor: 1 } })],
        {
          random: () => {
            throw new Error('no entropy');
          },
        },
      );
      harness.crash('a');
      await flush();
      clock.advance(100);
      expect(starts('a')).toEqual([0, 100]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an asynchronous start that rejects continues the backoff count', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    await startSupervisor(
      { intensity: 10, period: 60_000, children: [harness.child('a', { backoff: exact })] },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.setDeferred('a', true);
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    recorded.clock.advance(100);
    harness.settleChild('a', 'reject');
    await flush();
    recorded.clock.advance(200);
    harness.settleChild('a', 'running');
    await flush();
    expect(recorded.named('supervisor.child.backoff').map((event) => [event.time, event.measurements.delay])).toEqual([
      [0, 100],
      [100, 200],
    ]);
    expect(startTimes(recorded, 'a')).toEqual([0, 300]);
  });

  it('the group wait starts once the group has stopped: a sibling draining 300 ms puts the restart at 300 + delay', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    await startSupervisor(
      {
        strategy: 'one_for_all',
        intensity: 10,
        period: 60_000,
        children: [harness.child('slow', { drainMs: 300, shutdown: 'infinity' }), harness.child('b', { backoff: exact })],
      },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.produced[1]!.send({ type: 'CRASH' });
    await flush();
    recorded.clock.advance(300);
    await flush();
    recorded.clock.advance(99);
    expect(harness.startCount('b')).toBe(1);
    recorded.clock.advance(1);
    expect([startTimes(recorded, 'slow'), startTimes(recorded, 'b')]).toEqual([
      [0, 400],
      [0, 400],
    ]);
  });

  it('stop() while the group is still being stopped for its wait: nothing is ever started again', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      {
        strategy: 'one_for_all',
        intensity: 10,
        period: 60_000,
        children: [harness.child('slow', { drainMs: 300, shutdown: 'infinity' }), harness.child('b', { backoff: exact })],
      },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.produced[1]!.send({ type: 'CRASH' });
    await flush();
    const stopping = supervisor.stop();
    recorded.clock.advance(300);
    await stopping;
    recorded.clock.advance(10_000);
    expect([harness.startCount('slow'), harness.startCount('b')]).toEqual([1, 1]);
    expect(harness.running()).toEqual([]);
    expect(recorded.clock.pendingTimers()).toBe(0);
  });

  it('a due restart queued behind a terminate of the same child (busy mailbox) never starts it: the wait is stale', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      { intensity: 10, period: 60_000, children: [harness.child('a', { backoff: exact })] },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    const starting = supervisor.startChild(harness.child('slow', { deferred: true }));
    await flush();
    const terminating = supervisor.terminateChild('a'); // queued behind the start in flight
    recorded.clock.advance(100); // a's restart falls due and is queued behind the terminate
    harness.settleChild('slow', 'running');
    await starting;
    await terminating;
    await flush();
    recorded.clock.advance(10_000);
    expect(harness.startCount('a')).toBe(1);
    expect(supervisor.whichChildren()[0]).toEqual({ id: 'a', ref: undefined, type: 'worker', restart: 'permanent' });
  });

  it('a due restart queued before a terminate (mailbox order) starts the child, and the terminate then stops it for good', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      { intensity: 10, period: 60_000, children: [harness.child('a', { backoff: exact })] },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    const starting = supervisor.startChild(harness.child('slow', { deferred: true }));
    await flush();
    recorded.clock.advance(100);
    const terminating = supervisor.terminateChild('a');
    harness.settleChild('slow', 'running');
    await starting;
    await terminating;
    await flush();
    recorded.clock.advance(10_000);
    expect(harness.startCount('a')).toBe(2);
    expect(supervisor.whichChildren()[0]).toEqual({ id: 'a', ref: undefined, type: 'worker', restart: 'permanent' });
    expect(harness.running(), 'only slow runs').toEqual([harness.produced[1]]);
  });
});
