import { describe, expect, it } from 'vitest';
import { startSupervisor, supervisorChild, supervisorOf, type Supervisor } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function tree(rootIntensity: number, nestedRestart: 'permanent' | 'transient' = 'permanent') {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const root = await startSupervisor(
    {
      intensity: rootIntensity,
      period: 10_000,
      children: [
        harness.child('sibling'),
        supervisorChild('team', { intensity: 1, period: 10_000, children: [harness.child('worker')] }, { restart: nestedRestart }),
      ],
    },
    { id: 'root', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  const nested = () => supervisorOf(root.whichChildren()[1]?.ref) as Supervisor | undefined;
  return { ...recorded, harness, root, nested };
}

const state = (promise: Promise<unknown>) => Promise.race([promise, flush().then(() => 'running')]);

describe('nested supervisors', () => {
  it('start with the parent clock and telemetry under the id parent/child', async () => {
    const { nested, named } = await tree(3);
    expect(nested()?.id).toBe('root/team');
    expect(named('supervisor.child.started').map((event) => `${event.metadata.supervisor}:${event.metadata.child}`)).toEqual([
      'root:sibling',
      'root/team:worker',
      'root:team',
    ]);
  });

  it('handle their own restarts within their intensity', async () => {
    const { harness, root, nested } = await tree(3);
    const before = nested();
    harness.crash('worker');
    await flush();
    expect(harness.startCount('worker')).toBe(2);
    expect(nested()).toBe(before);
    expect(await state(root.exited)).toBe('running');
  });

  it('escalate: a nested supervisor that exceeds its intensity exits shutdown and its parent restarts it', async () => {
    const { harness, root, nested, named } = await tree(3);
    const first = nested()!;
    harness.crash('worker');
    await flush();
    harness.crash('worker');
    await flush();
    expect(await state(first.exited)).toBe('shutdown');
    const exit = named('supervisor.child.exited').find((event) => event.metadata.child === 'team');
    expect(exit?.metadata).toMatchObject({ supervisor: 'root', reason: 'shutdown' });
    expect(nested()).not.toBe(first);
    expect(nested()?.whichChildren()[0]?.ref?.getSnapshot().status).toBe('active');
    expect(harness.startCount('sibling')).toBe(1);
    expect(await state(root.exited)).toBe('running');
  });

  it('escalate further: the parent gives up when its own intensity is exceeded', async () => {
    const { harness, root } = await tree(0);
    harness.crash('worker');
    await flush();
    harness.crash('worker');
    await flush();
    expect(await state(root.exited)).toBe('shutdown');
    expect(harness.actor('sibling').getSnapshot().status).toBe('stopped');
  });

  it('a transient nested supervisor that gives up is not restarted (its exit is shutdown)', async () => {
    const { harness, root, nested } = await tree(3, 'transient');
    harness.crash('worker');
    await flush();
    harness.crash('worker');
    await flush();
    expect(nested()).toBeUndefined();
    expect(root.whichChildren()[1]).toMatchObject({ id: 'team', ref: undefined });
  });

  it('stop in order: the parent waits for the nested supervisor to stop its children', async () => {
    const { root, trail } = await tree(3);
    await root.stop();
    expect(trail().filter((line) => line.startsWith('exited'))).toEqual([
      'exited worker shutdown',
      'exited team shutdown',
      'exited sibling shutdown',
    ]);
  });

  it('a nested supervisor stopped by hand exits normal', async () => {
    const { root, nested, named } = await tree(3, 'transient');
    await nested()!.stop();
    await flush();
    expect(named('supervisor.child.exited').find((event) => event.metadata.child === 'team')?.metadata.reason).toBe('normal');
    expect(root.whichChildren()[1]?.ref).toBeUndefined();
  });
});
