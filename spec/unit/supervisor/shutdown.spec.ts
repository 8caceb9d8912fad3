import { describe, expect, it } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { startSupervisor, type Shutdown } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function withShutdown(shutdown: Shutdown, drainMs: number | 'never' | undefined) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    {
      children: [
        harness.child('first'),
        harness.child('slow', { shutdown, ...(drainMs === undefined ? {} : { drainMs }) }),
        harness.child('last'),
      ],
    },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  recorded.events.length = 0;
  return { ...recorded, harness, supervisor };
}

describe('ordered shutdown', () => {
  it('stops children in reverse start order and exits normal on stop()', async () => {
    const { supervisor, trail, named } = await withShutdown(5000, undefined);
    await supervisor.stop();
    expect(trail()).toEqual(['exited last shutdown', 'exited slow shutdown', 'exited first shutdown']);
    expect(await supervisor.exited).toBe('normal');
    expect(named('supervisor.shutdown')[0]?.metadata).toMatchObject({ supervisor: 'sup', reason: 'stop' });
    expect(supervisor.ref.getSnapshot()).toMatchObject({ status: 'done', output: 'normal' });
  });

  it('refuses requests once stopped', async () => {
    const { supervisor } = await withShutdown(5000, undefined);
    await supervisor.stop();
    await expect(supervisor.terminateChild('first')).rejects.toMatchObject({ code: 'not_running' });
    await expect(supervisor.stop()).resolves.toBeUndefined();
  });
});

describe('graceful shutdown', () => {
  it('asks a child that handles overseer.shutdown and waits until it reaches its final state', async () => {
    const { supervisor, harness, clock } = await withShutdown(1000, 300);
    const slow = harness.actor('slow');
    let stopped = false;
    const stopping = supervisor.stop().then(() => (stopped = true));
    await flush();
    expect(slow.getSnapshot().value).toBe('draining');
    expect(harness.actor('first').getSnapshot().status).toBe('active');
    clock.advance(299);
    await flush();
    expect(stopped).toBe(false);
    clock.advance(1);
    await stopping;
    expect(slow.getSnapshot().status).toBe('done');
    expect(harness.actor('first').getSnapshot().status).toBe('stopped');
  });

  it('kills a child that has not finished within `shutdown` ms', async () => {
    const { supervisor, harness, clock } = await withShutdown(100, 'never');
    const stopping = supervisor.stop();
    await flush();
    clock.advance(99);
    await flush();
    expect(harness.actor('slow').getSnapshot().status).toBe('active');
    clock.advance(1);
    await stopping;
    expect(harness.actor('slow').getSnapshot().status).toBe('stopped');
  });

  it("waits for ever under 'infinity'", async () => {
    const { supervisor, harness, clock } = await withShutdown('infinity', 60_000);
    let stopped = false;
    const stopping = supervisor.stop().then(() => (stopped = true));
    clock.advance(59_999);
    await flush();
    expect(stopped).toBe(false);
    clock.advance(1);
    await stopping;
    expect(harness.actor('slow').getSnapshot().status).toBe('done');
  });

  it("stops at once under 'brutal_kill', even a child that could drain", async () => {
    const { supervisor, harness } = await withShutdown('brutal_kill', 300);
    await supervisor.stop();
    expect(harness.actor('slow').getSnapshot().status).toBe('stopped');
  });

  it('stops at once a child that does not handle overseer.shutdown', async () => {
    const { supervisor, harness, clock } = await withShutdown(5000, undefined);
    await supervisor.stop();
    expect(harness.actor('slow').getSnapshot().status).toBe('stopped');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs the cleanup of a callback actor when it is stopped', async () => {
    const { clock, telemetry } = recordTelemetry();
    let cleaned = false;
    const supervisor = await startSupervisor(
      { children: [{ id: 'cb', start: () => createActor(fromCallback(() => () => void (cleaned = true))) }] },
      { clock, telemetry },
    );
    await supervisor.stop();
    expect(cleaned).toBe(true);
  });
});

describe('killing the supervisor actor', () => {
  it('stops every child at once and exits shutdown', async () => {
    const { supervisor, harness } = await withShutdown(5000, 'never');
    supervisor.ref.stop();
    expect(await supervisor.exited).toBe('shutdown');
    for (const id of ['first', 'slow', 'last']) expect(harness.actor(id).getSnapshot().status).toBe('stopped');
  });

  it('ends a graceful stop in progress: the terminateChild waiting on it settles, its shutdown timer is cleared, the child exits once', async () => {
    const { supervisor, harness, clock, trail } = await withShutdown(5000, 'never');
    let terminated = false;
    const terminating = supervisor.terminateChild('slow').then(() => (terminated = true));
    await flush();
    expect(harness.actor('slow').getSnapshot().value).toBe('draining');
    expect(terminated).toBe(false);
    supervisor.ref.stop();
    await flush();
    expect(terminated).toBe(true);
    await terminating;
    expect(await supervisor.exited).toBe('shutdown');
    expect(harness.actor('slow').getSnapshot().status).toBe('stopped');
    expect(clock.pendingTimers()).toBe(0);
    expect(trail().filter((entry) => entry.startsWith('exited slow'))).toEqual(['exited slow shutdown']);
  });
});
