import { describe, expect, it } from 'vitest';
import { startSupervisor, type Strategy } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function threeChildren(strategy: Strategy) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    { strategy, intensity: 10, period: 1000, children: [harness.child('a'), harness.child('b'), harness.child('c')] },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  recorded.events.length = 0;
  return { ...recorded, harness, supervisor };
}

describe('start order', () => {
  it('starts children in spec order', async () => {
    const { harness, supervisor } = await threeChildren('one_for_one');
    expect(harness.startOrder).toEqual(['a', 'b', 'c']);
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('one_for_one', () => {
  it('restarts only the child that failed', async () => {
    const { harness, supervisor, trail } = await threeChildren('one_for_one');
    const before = supervisor.whichChildren().map((child) => child.ref);
    harness.crash('b');
    await flush();
    expect(trail()).toEqual(['exited b error', 'started b', 'restarted b']);
    const after = supervisor.whichChildren().map((child) => child.ref);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[2]).toBe(before[2]);
    expect(after[1]?.getSnapshot().status).toBe('active');
  });
});

describe('one_for_all', () => {
  it('stops the others in reverse start order, then starts all in start order', async () => {
    const { harness, trail } = await threeChildren('one_for_all');
    harness.crash('b');
    await flush();
    expect(trail()).toEqual([
      'exited b error',
      'exited c shutdown',
      'exited a shutdown',
      'started a',
      'restarted a',
      'started b',
      'restarted b',
      'started c',
      'restarted c',
    ]);
  });

  it('counts a group restart as one restart', async () => {
    const { harness, named } = await threeChildren('one_for_all');
    harness.crash('a');
    await flush();
    expect(named('supervisor.child.restarted').map((event) => event.measurements.restarts)).toEqual([1, 1, 1]);
  });

  it('also starts children that were terminated by hand (as OTP does)', async () => {
    const { harness, supervisor } = await threeChildren('one_for_all');
    await supervisor.terminateChild('c');
    harness.crash('a');
    await flush();
    expect(supervisor.whichChildren().every((child) => child.ref !== undefined)).toBe(true);
    expect(harness.startCount('c')).toBe(2);
  });

  it('removes a temporary sibling stopped because another child failed', async () => {
    const recorded = recordTelemetry();
    const harness = new ChildHarness();
    const supervisor = await startSupervisor(
      {
        strategy: 'one_for_all',
        intensity: 5,
        children: [harness.child('a'), harness.child('temp', { restart: 'temporary' }), harness.child('c')],
      },
      { clock: recorded.clock, telemetry: recorded.telemetry },
    );
    harness.crash('a');
    await flush();
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a', 'c']);
    expect(harness.startCount('temp')).toBe(1);
  });
});

describe('rest_for_one', () => {
  it('restarts the failed child and those started after it', async () => {
    const { harness, trail } = await threeChildren('rest_for_one');
    harness.crash('b');
    await flush();
    expect(trail()).toEqual(['exited b error', 'exited c shutdown', 'started b', 'restarted b', 'started c', 'restarted c']);
    expect(harness.startCount('a')).toBe(1);
  });

  it('restarts only the last child when the last fails', async () => {
    const { harness, trail } = await threeChildren('rest_for_one');
    harness.crash('c');
    await flush();
    expect(trail()).toEqual(['exited c error', 'started c', 'restarted c']);
  });
});
