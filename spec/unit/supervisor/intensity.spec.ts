import { describe, expect, it } from 'vitest';
import { RestartHistory } from '../../../src/supervisor/restart-intensity.js';
import { startSupervisor } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function supervised(intensity: number, period: number) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    { intensity, period, children: [harness.child('a'), harness.child('b'), harness.child('c')] },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  recorded.events.length = 0;
  return { ...recorded, harness, supervisor };
}

async function exitedYet(promise: Promise<unknown>): Promise<unknown> {
  return Promise.race([promise, flush().then(() => 'running')]);
}

describe('restart intensity', () => {
  it('allows exactly `intensity` restarts within the period', async () => {
    const { harness, supervisor } = await supervised(2, 1000);
    harness.crash('b');
    await flush();
    harness.crash('b');
    await flush();
    expect(harness.startCount('b')).toBe(3);
    expect(await exitedYet(supervisor.exited)).toBe('running');
  });

  it('shuts down on one restart more: stops the children in reverse order and exits shutdown', async () => {
    const { harness, supervisor, trail, named } = await supervised(2, 1000);
    for (let crash = 0; crash < 2; crash += 1) {
      harness.crash('b');
      await flush();
    }
    const restartsBefore = harness.startCount('b');
    harness.crash('b');
    await flush();
    expect(await exitedYet(supervisor.exited)).toBe('shutdown');
    expect(harness.startCount('b')).toBe(restartsBefore);
    expect(trail().slice(-3)).toEqual(['exited b error', 'exited c shutdown', 'exited a shutdown']);
    expect(named('supervisor.shutdown').map((event) => event.metadata.reason)).toEqual(['intensity']);
    expect(supervisor.ref.getSnapshot().status).toBe('stopped');
  });

  it('forgets restarts older than the period', async () => {
    const { harness, supervisor, clock } = await supervised(2, 1000);
    for (let crash = 0; crash < 10; crash += 1) {
      harness.crash('a');
      await flush();
      clock.advance(600);
    }
    expect(harness.startCount('a')).toBe(11);
    expect(await exitedYet(supervisor.exited)).toBe('running');
  });

  it('keeps a restart in the window while now - then <= period (OTP rule)', async () => {
    const { harness, supervisor, clock } = await supervised(1, 1000);
    harness.crash('a');
    await flush();
    clock.advance(1000);
    harness.crash('a');
    await flush();
    expect(await exitedYet(supervisor.exited)).toBe('shutdown');
  });

  it('drops a restart exactly one ms after the window', async () => {
    const { harness, supervisor, clock } = await supervised(1, 1000);
    harness.crash('a');
    await flush();
    clock.advance(1001);
    harness.crash('a');
    await flush();
    expect(await exitedYet(supervisor.exited)).toBe('running');
  });

  it('with intensity 0 gives up at the first restart', async () => {
    const { harness, supervisor } = await supervised(0, 1000);
    harness.crash('c');
    await flush();
    expect(await exitedYet(supervisor.exited)).toBe('shutdown');
    expect(harness.startCount('c')).toBe(1);
  });

  it('reports the count of restarts in the window with each restart', async () => {
    const { harness, named, clock } = await supervised(5, 1000);
    harness.crash('a');
    await flush();
    clock.advance(500);
    harness.crash('a');
    await flush();
    clock.advance(600);
    harness.crash('a');
    await flush();
    expect(named('supervisor.child.restarted').map((event) => event.measurements.restarts)).toEqual([1, 2, 2]);
  });
});

describe('a restart that fails to start', () => {
  it('counts as a restart and is tried again until it starts', async () => {
    const { harness, named } = await supervised(5, 1000);
    harness.failNextStarts('b', 2);
    harness.crash('b');
    await flush();
    expect(harness.startCount('b')).toBe(2);
    expect(named('supervisor.child.start_failed')).toHaveLength(2);
    expect(named('supervisor.child.restarted').map((event) => event.measurements.restarts)).toEqual([3]);
  });

  it('makes the supervisor give up when it keeps failing', async () => {
    const { harness, supervisor } = await supervised(3, 1000);
    harness.failNextStarts('b', 100);
    harness.crash('b');
    await flush();
    await flush();
    expect(await exitedYet(supervisor.exited)).toBe('shutdown');
    expect(supervisor.whichChildren().every((child) => child.ref === undefined)).toBe(true);
  });
});

describe('RestartHistory', () => {
  it('counts the restarts within the window', () => {
    const history = new RestartHistory();
    expect(history.record(0, 100)).toBe(1);
    expect(history.record(50, 100)).toBe(2);
    expect(history.record(100, 100)).toBe(3);
    expect(history.record(101, 100)).toBe(3);
    expect(history.record(250, 100)).toBe(1);
  });

  it('grows past its initial capacity keeping order', () => {
    const history = new RestartHistory();
    for (let index = 0; index < 1000; index += 1) history.record(index, 10_000);
    expect(history.count).toBe(1000);
    expect(history.record(10_500, 10_000)).toBe(501);
  });
});
