import { describe, expect, it } from 'vitest';
import { startDynamicSupervisor } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function dynamic(options: { maxChildren?: number; intensity?: number } = {}) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startDynamicSupervisor({ id: 'dyn', clock: recorded.clock, telemetry: recorded.telemetry, ...options });
  return { ...recorded, harness, supervisor };
}

const spec = (harness: ChildHarness, id: string, extra = {}) => {
  const { id: _ignored, ...rest } = harness.child(id, extra);
  return rest;
};

describe('dynamic supervisor', () => {
  it('starts with no children and starts them on demand with generated ids', async () => {
    const { supervisor, harness } = await dynamic();
    expect(supervisor.countChildren()).toEqual({ specs: 0, active: 0, supervisors: 0, workers: 0 });
    const first = await supervisor.startChild(spec(harness, 'w'));
    const second = await supervisor.startChild(spec(harness, 'w'));
    expect(first.id).not.toBe(second.id);
    expect(first.ref.getSnapshot().status).toBe('active');
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual([first.id, second.id]);
  });

  it('keeps a given id and refuses it twice', async () => {
    const { supervisor, harness } = await dynamic();
    expect((await supervisor.startChild(harness.child('named'))).id).toBe('named');
    await expect(supervisor.startChild(harness.child('named'))).rejects.toMatchObject({ code: 'already_started' });
  });

  it('refuses more than maxChildren with max_children', async () => {
    const { supervisor, harness } = await dynamic({ maxChildren: 2 });
    await supervisor.startChild(spec(harness, 'w'));
    await supervisor.startChild(spec(harness, 'w'));
    await expect(supervisor.startChild(spec(harness, 'w'))).rejects.toMatchObject({ code: 'max_children' });
    const [first] = supervisor.whichChildren();
    await supervisor.terminateChild(first!.id);
    await expect(supervisor.startChild(spec(harness, 'w'))).resolves.toMatchObject({ id: expect.any(String) });
  });

  it('restarts a permanent child one_for_one in place', async () => {
    const { supervisor, harness } = await dynamic();
    await supervisor.startChild(harness.child('a'));
    await supervisor.startChild(harness.child('b'));
    harness.crash('a');
    await flush();
    expect(harness.startCount('a')).toBe(2);
    expect(harness.startCount('b')).toBe(1);
    expect(supervisor.whichChildren().map((child) => [child.id, child.ref === harness.actor(child.id)])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('forgets temporary children and transient ones that ended normally', async () => {
    const { supervisor, harness } = await dynamic();
    await supervisor.startChild(harness.child('temp', { restart: 'temporary' }));
    await supervisor.startChild(harness.child('trans', { restart: 'transient' }));
    harness.crash('temp');
    harness.finish('trans');
    await flush();
    expect(supervisor.whichChildren()).toEqual([]);
  });

  it('terminateChild stops and forgets the child; unknown ids are not_found', async () => {
    const { supervisor, harness } = await dynamic();
    const { id } = await supervisor.startChild(spec(harness, 'w'));
    await supervisor.terminateChild(id);
    expect(supervisor.countChildren().specs).toBe(0);
    await expect(supervisor.terminateChild(id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('gives up after more than intensity restarts and stops every child', async () => {
    const { supervisor, harness, named } = await dynamic({ intensity: 1 });
    await supervisor.startChild(harness.child('a'));
    await supervisor.startChild(harness.child('b'));
    harness.crash('a');
    await flush();
    harness.crash('a');
    await flush();
    expect(await supervisor.exited).toBe('shutdown');
    expect(harness.actor('b').getSnapshot().status).toBe('stopped');
    expect(named('supervisor.shutdown')[0]?.metadata).toMatchObject({ supervisor: 'dyn', reason: 'intensity' });
  });

  it('stops children in reverse start order', async () => {
    const { supervisor, harness, trail } = await dynamic();
    for (const id of ['a', 'b', 'c']) await supervisor.startChild(harness.child(id));
    await supervisor.stop();
    expect(trail().filter((line) => line.startsWith('exited'))).toEqual([
      'exited c shutdown',
      'exited b shutdown',
      'exited a shutdown',
    ]);
    expect(await supervisor.exited).toBe('normal');
  });
});
