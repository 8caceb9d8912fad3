import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { SHUTDOWN_EVENT, createTestClock, startSupervisor, type ChildSpec, type Strategy, type SupervisorSpec } from '../../../src/index.js';
import { resolveChildSpec } from '../../../src/supervisor/child-spec.js';
import { SupervisorEngine } from '../../../src/supervisor/supervisor-engine.js';
import { ChildHarness, workerMachine } from '../../support/actors.js';
import { StartHarness, flush, recordTelemetry } from '../../support/supervision.js';

// How a supervisor goes down: the exit its parent sees, the one supervisor.shutdown event it
// reports, the order and reason in which its children go, and what a stop or a kill arriving at
// an awkward moment changes (nothing, mostly).

async function supervised(spec: Omit<SupervisorSpec, 'children'>, children: (harness: ChildHarness) => ChildSpec[]) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    { intensity: 100, period: 60_000, ...spec, children: children(harness) },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor, shutdowns: () => recorded.named('supervisor.shutdown').map((event) => event.metadata) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('asked to stop through its actor (overseer.shutdown, as a parent asks)', () => {
  it("exits 'shutdown', ends its actor done with output 'shutdown' and reports cause 'stop'", async () => {
    const { supervisor, harness, shutdowns } = await supervised({}, (h) => [h.child('a'), h.child('b')]);
    supervisor.ref.send(SHUTDOWN_EVENT);
    expect(await supervisor.exited).toBe('shutdown');
    expect(supervisor.ref.getSnapshot()).toMatchObject({ status: 'done', output: 'shutdown' });
    expect(shutdowns()).toEqual([{ supervisor: 'sup', reason: 'stop', cause: 'stop' }]);
    expect(harness.actor('a').getSnapshot().status).toBe('stopped');
  });
});

describe('a failed initial start', () => {
  it("reports the supervisor's shutdown with cause 'stop'", async () => {
    const { clock, telemetry, named } = recordTelemetry();
    const harness = new ChildHarness();
    harness.failNextStarts('b', 1);
    await expect(startSupervisor({ children: [harness.child('a'), harness.child('b')] }, { id: 'sup', clock, telemetry })).rejects.toMatchObject({
      code: 'start_failed',
    });
    expect(named('supervisor.shutdown').map((event) => event.metadata)).toEqual([{ supervisor: 'sup', reason: 'stop', cause: 'stop' }]);
  });

  it("ends the engine's actor stopped and resolves its exit 'shutdown'", async () => {
    const clock = createTestClock();
    const { telemetry } = recordTelemetry();
    const engine = new SupervisorEngine(
      {
        id: 'engine',
        clock,
        telemetry,
        strategy: 'one_for_one',
        intensity: 1,
        period: 5000,
        autoShutdown: 'never',
        dynamic: false,
        maxChildren: Number.MAX_SAFE_INTEGER,
        random: () => 0,
      },
      {},
    );
    const failing = resolveChildSpec(
      {
        id: 'x',
        start: () => {
          throw new Error('no');
        },
      },
      'never',
      'spec',
    );
    await expect(engine.startInitialChildren([failing])).rejects.toMatchObject({ code: 'start_failed' });
    expect(await engine.exited).toBe('shutdown');
    expect(engine.ref.getSnapshot().status).toBe('stopped');
  });
});

describe.each<Strategy>(['one_for_all', 'rest_for_one'])('giving up on the restart intensity under %s', (strategy) => {
  it("exits 'shutdown' with cause 'intensity'", async () => {
    const { supervisor, harness, shutdowns } = await supervised({ strategy, intensity: 0 }, (h) => [h.child('a'), h.child('b')]);
    harness.crash('a');
    expect(await supervisor.exited).toBe('shutdown');
    expect(shutdowns()).toEqual([{ supervisor: 'sup', reason: 'intensity', cause: 'intensity' }]);
  });
});

describe('a second stop while the first is in progress', () => {
  it('changes nothing: one supervisor.shutdown event, the exit of the first', async () => {
    const { supervisor, clock, shutdowns } = await supervised({}, (h) => [h.child('slow', { shutdown: 1000, drainMs: 100 })]);
    const first = supervisor.stop();
    const second = supervisor.stop();
    supervisor.ref.send(SHUTDOWN_EVENT);
    clock.advance(100);
    await first;
    await second;
    await flush();
    expect(await supervisor.exited).toBe('normal');
    expect(shutdowns()).toEqual([{ supervisor: 'sup', reason: 'stop', cause: 'stop' }]);
  });

  it('a kill during a graceful stop ends it: one supervisor.shutdown event, exit shutdown', async () => {
    const { supervisor, clock, shutdowns, harness } = await supervised({}, (h) => [h.child('slow', { shutdown: 1000, drainMs: 'never' })]);
    const stopping = supervisor.stop();
    await flush();
    expect(harness.actor('slow').getSnapshot().value).toBe('draining');
    supervisor.ref.stop();
    await stopping;
    clock.advance(1000);
    await flush();
    expect(await supervisor.exited).toBe('shutdown');
    expect(shutdowns()).toEqual([{ supervisor: 'sup', reason: 'stop', cause: 'stop' }]);
  });
});

describe('killing the supervisor actor', () => {
  it('stops the running children in reverse start order, each with reason shutdown, and skips those not running', async () => {
    const { supervisor, trail, events, shutdowns } = await supervised({}, (h) => [h.child('a'), h.child('gone'), h.child('b'), h.child('c')]);
    await supervisor.terminateChild('gone');
    events.length = 0;
    supervisor.ref.stop();
    expect(await supervisor.exited).toBe('shutdown');
    expect(trail()).toEqual(['exited c shutdown', 'exited b shutdown', 'exited a shutdown']);
    expect(shutdowns()).toEqual([{ supervisor: 'sup', reason: 'stop', cause: 'stop' }]);
  });

  it('a stop() requested while the kill is under way (from a telemetry handler) asks no remaining child to drain', async () => {
    const { supervisor, harness, telemetry } = await supervised({}, (h) => [h.child('graceful', { shutdown: 1000, drainMs: 'never' }), h.child('plain'), h.child('last')]);
    let stopping: Promise<void> | undefined;
    telemetry.events$.subscribe((event) => {
      if (event.name === 'supervisor.child.exited' && event.metadata.child === 'last') stopping ??= supervisor.stop();
    });
    supervisor.ref.stop();
    await stopping;
    expect(await supervisor.exited).toBe('shutdown');
    // Killed in the state it was in, never asked (overseer.shutdown would have moved it to 'draining').
    expect(harness.actor('graceful').getSnapshot()).toMatchObject({ status: 'stopped', value: 'running' });
  });
});

describe('stop() while a restart under backoff waits', () => {
  it('the waiting child is no longer shown restarting while the other children drain', async () => {
    const { supervisor, harness, clock } = await supervised({}, (h) => [
      h.child('slow', { shutdown: 1000, drainMs: 500 }),
      h.child('waiting', { backoff: { minMs: 100, maxMs: 100, randomFactor: 0 } }),
    ]);
    harness.crash('waiting');
    await flush();
    expect(supervisor.whichChildren()[1]).toMatchObject({ id: 'waiting', restarting: true, nextRestartAt: 100 });
    const stopping = supervisor.stop();
    await flush();
    expect(harness.actor('slow').getSnapshot().value).toBe('draining');
    expect(supervisor.whichChildren()[1]).not.toHaveProperty('restarting');
    clock.advance(500);
    await stopping;
    expect(harness.startCount('waiting')).toBe(1);
  });

  it('a wait that fell due while a start was in flight, its member then cancelled by stop(), counts no restart', async () => {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      { intensity: 0, period: 60_000, children: [harness.child('a', { backoff: { minMs: 100, maxMs: 100, randomFactor: 0 } })] },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.produced[0]!.send({ type: 'CRASH' });
    await flush();
    const starting = supervisor.startChild(harness.child('b', { deferred: true }));
    await flush();
    expect(harness.pendingChildren()).toEqual(['b']);
    recorded.clock.advance(100); // a's wait falls due; its restart queues behind b's start
    const stopping = supervisor.stop(); // cancels it before it runs
    harness.settleChild('b', 'running');
    await starting;
    await stopping;
    expect(await supervisor.exited).toBe('normal');
    expect(recorded.named('supervisor.shutdown').map((event) => event.metadata.cause)).toEqual(['stop']);
    expect(harness.startCount('a')).toBe(1);
  });
});

describe('stop() while a group is being stopped for a restart after a member’s wait', () => {
  // a waits for its backoff; b and c were restarted by hand. b (no backoff) crashes, so the group
  // must join a's wait, but c drains first, and stop() cancels a's wait meanwhile: with no wait
  // left to join, the group restarts at once, counting against the intensity, before the stop.
  async function groupWithCancelledWait(intensity: number) {
    const recorded = recordTelemetry();
    const harness = new ChildHarness();
    const supervisor = await startSupervisor(
      {
        strategy: 'one_for_all',
        intensity,
        period: 60_000,
        children: [
          harness.child('a', { backoff: { minMs: 1000, maxMs: 1000, randomFactor: 0 } }),
          harness.child('b'),
          harness.child('c', { shutdown: 5000, drainMs: 50 }),
        ],
      },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.crash('a');
    await flush();
    recorded.clock.advance(50); // c drains
    await flush();
    await supervisor.restartChild('b');
    await supervisor.restartChild('c');
    expect(supervisor.whichChildren().map((child) => [child.id, child.restarting === true])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
    harness.crash('b');
    await flush();
    expect(harness.actor('c').getSnapshot().value).toBe('draining');
    const stopping = supervisor.stop();
    recorded.clock.advance(50); // c finishes draining for the group's restart
    await flush();
    recorded.clock.advance(50); // and, restarted, again for the stop
    await stopping;
    return { ...recorded, harness, supervisor };
  }

  it('restarts the group at once (as without backoff), then stops it normally', async () => {
    const { harness, supervisor, named } = await groupWithCancelledWait(10);
    expect(await supervisor.exited).toBe('normal');
    expect(named('supervisor.shutdown').map((event) => event.metadata.cause)).toEqual(['stop']);
    expect([harness.startCount('a'), harness.startCount('b'), harness.startCount('c')]).toEqual([2, 3, 3]);
  });

  it('gives up with exit shutdown when that restart exceeds the intensity', async () => {
    const { harness, supervisor, named } = await groupWithCancelledWait(0);
    expect(await supervisor.exited).toBe('shutdown');
    expect(named('supervisor.shutdown').map((event) => event.metadata.cause)).toEqual(['intensity']);
    expect([harness.startCount('a'), harness.startCount('b'), harness.startCount('c')]).toEqual([1, 2, 2]);
  });
});

describe('internal failures are reported as process warnings, never thrown', () => {
  it('a jitter source that throws is reported with the OverseerSupervisorWarning type and code', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const recorded = recordTelemetry();
    const harness = new ChildHarness();
    await startSupervisor(
      { children: [harness.child('a', { backoff: { minMs: 100, maxMs: 100, randomFactor: 1 } })] },
      {
        id: 'sup',
        clock: recorded.clock,
        telemetry: recorded.telemetry,
        random: () => {
          throw new Error('no entropy');
        },
      },
    );
    harness.crash('a');
    await flush();
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, options] = warn.mock.calls[0]!;
    expect(message).toMatch(/^supervisor 'sup' failed internally: Error: no entropy/);
    expect(options).toEqual({ type: 'OverseerSupervisorWarning', code: 'OVERSEER_SUPERVISOR_INTERNAL' });
    recorded.clock.advance(100);
    expect(harness.startCount('a')).toBe(2);
  });

  it('an operation of the supervisor that throws (a child whose snapshot cannot be read) is reported', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const recorded = recordTelemetry();
    const actor = createActor(workerMachine());
    const supervisor = await startSupervisor({ children: [{ id: 'odd', start: () => actor }] }, { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry });
    actor.getSnapshot = () => {
      throw new Error('unreadable');
    };
    void supervisor.stop();
    await flush();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^supervisor 'sup' failed internally: Error: unreadable/);
  });

  it('restarting children reports nothing', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { supervisor, harness } = await supervised({ strategy: 'one_for_all' }, (h) => [h.child('a'), h.child('b')]);
    harness.crash('a');
    harness.crash('b');
    await flush();
    expect(harness.startCount('a')).toBe(3);
    await supervisor.stop();
    expect(warn).not.toHaveBeenCalled();
  });
});
