import { describe, expect, it } from 'vitest';
import { startSupervisor, type Restart } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function oneChild(restart: Restart) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    { intensity: 10, children: [harness.child('w', { restart })] },
    { clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor };
}

describe('permanent', () => {
  it('is restarted after an error exit', async () => {
    const { harness } = await oneChild('permanent');
    harness.crash('w');
    await flush();
    expect(harness.startCount('w')).toBe(2);
  });

  it('is restarted after a normal exit', async () => {
    const { harness, named } = await oneChild('permanent');
    harness.finish('w');
    await flush();
    expect(harness.startCount('w')).toBe(2);
    expect(named('supervisor.child.exited')[0]?.metadata.reason).toBe('normal');
  });

  it('is restarted after someone else stops it (a shutdown exit)', async () => {
    const { harness, named } = await oneChild('permanent');
    harness.actor('w').stop();
    await flush();
    expect(harness.startCount('w')).toBe(2);
    expect(named('supervisor.child.exited')[0]?.metadata.reason).toBe('shutdown');
  });
});

describe('transient', () => {
  it('is restarted after an error exit', async () => {
    const { harness } = await oneChild('transient');
    harness.crash('w');
    await flush();
    expect(harness.startCount('w')).toBe(2);
  });

  it('is not restarted after a normal exit, and its spec is kept', async () => {
    const { harness, supervisor } = await oneChild('transient');
    harness.finish('w');
    await flush();
    expect(harness.startCount('w')).toBe(1);
    expect(supervisor.whichChildren()).toEqual([{ id: 'w', ref: undefined, type: 'worker', restart: 'transient' }]);
  });

  it('is not restarted after a shutdown exit', async () => {
    const { harness } = await oneChild('transient');
    harness.actor('w').stop();
    await flush();
    expect(harness.startCount('w')).toBe(1);
  });
});

describe('temporary', () => {
  it('is never restarted and its spec is removed when it exits', async () => {
    const { harness, supervisor } = await oneChild('temporary');
    harness.crash('w');
    await flush();
    expect(harness.startCount('w')).toBe(1);
    expect(supervisor.whichChildren()).toEqual([]);
    expect(supervisor.countChildren()).toEqual({ specs: 0, active: 0, supervisors: 0, workers: 0 });
  });
});

describe('exit reasons', () => {
  it('reports the error of an error exit in telemetry', async () => {
    const { harness, named } = await oneChild('permanent');
    harness.crash('w');
    await flush();
    const exited = named('supervisor.child.exited')[0]!;
    expect(exited.metadata).toMatchObject({ child: 'w', reason: 'error' });
    expect((exited.metadata.error as Error).message).toBe('worker crashed');
  });
});
