import { describe, expect, it } from 'vitest';
import { ConfigError, startSupervisor, type SupervisorSpec } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { StartHarness, flush, recordTelemetry } from '../../support/supervision.js';

async function withSignificant(autoShutdown: SupervisorSpec['autoShutdown']) {
  const recorded = recordTelemetry();
  const harness = new ChildHarness();
  const supervisor = await startSupervisor(
    {
      autoShutdown,
      intensity: 5,
      children: [
        harness.child('plain'),
        harness.child('sig1', { restart: 'transient', significant: true }),
        harness.child('sig2', { restart: 'temporary', significant: true }),
      ],
    },
    { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
  );
  return { ...recorded, harness, supervisor };
}

const state = (promise: Promise<unknown>) => Promise.race([promise, flush().then(() => 'running')]);

describe("autoShutdown 'any_significant'", () => {
  it('shuts the supervisor down when a significant child exits by itself', async () => {
    const { supervisor, harness, named } = await withSignificant('any_significant');
    harness.finish('sig1');
    await flush();
    expect(await state(supervisor.exited)).toBe('shutdown');
    expect(harness.actor('plain').getSnapshot().status).toBe('stopped');
    expect(named('supervisor.shutdown')[0]?.metadata).toMatchObject({ reason: 'stop', cause: 'auto_shutdown' });
  });

  it('restarts a transient significant child that fails, without shutting down', async () => {
    const { supervisor, harness } = await withSignificant('any_significant');
    harness.crash('sig1');
    await flush();
    expect(harness.startCount('sig1')).toBe(2);
    expect(await state(supervisor.exited)).toBe('running');
  });

  it('is never triggered by terminateChild', async () => {
    const { supervisor } = await withSignificant('any_significant');
    await supervisor.terminateChild('sig1');
    await supervisor.terminateChild('sig2');
    expect(await state(supervisor.exited)).toBe('running');
  });

  it('ignores the exit of a child that is not significant', async () => {
    const { supervisor, harness } = await withSignificant('any_significant');
    harness.finish('plain');
    await flush();
    expect(await state(supervisor.exited)).toBe('running');
  });
});

describe("autoShutdown 'all_significant'", () => {
  it('shuts down only once every significant child has exited', async () => {
    const { supervisor, harness } = await withSignificant('all_significant');
    harness.crash('sig2');
    await flush();
    expect(await state(supervisor.exited)).toBe('running');
    harness.finish('sig1');
    await flush();
    expect(await state(supervisor.exited)).toBe('shutdown');
  });

  it('counts a significant child terminated by hand as exited', async () => {
    const { supervisor, harness } = await withSignificant('all_significant');
    await supervisor.terminateChild('sig1');
    expect(await state(supervisor.exited)).toBe('running');
    harness.finish('sig2');
    await flush();
    expect(await state(supervisor.exited)).toBe('shutdown');
  });
});

describe("autoShutdown 'all_significant' counts a significant child being restarted as alive", () => {
  // OTP's do_auto_shutdown: a child whose pid is {restarting, _} is not undefined, so it counts.
  async function restartingSignificant(autoShutdown: 'all_significant' | 'any_significant') {
    const recorded = recordTelemetry();
    const harness = new StartHarness();
    const supervisor = await startSupervisor(
      {
        autoShutdown,
        intensity: 5,
        period: 10_000,
        children: [
          harness.child('sig1', { restart: 'transient', significant: true }),
          harness.child('sig2', { restart: 'temporary', significant: true }),
        ],
      },
      { id: 'sup', clock: recorded.clock, telemetry: recorded.telemetry },
    );
    // sig1 crashes; its restart is in flight when sig2 ends, and then fails: sig1 is 'restarting'
    // (a retry queued behind sig2's exit) when the supervisor handles sig2's exit.
    harness.setDeferred('sig1', true);
    harness.produced[0]!.send({ type: 'CRASH' });
    harness.produced[1]!.send({ type: 'FINISH' });
    await flush();
    harness.settleChild('sig1', 'reject');
    await flush();
    return { ...recorded, harness, supervisor };
  }

  it("does not shut down under 'all_significant' while the other significant child is being restarted", async () => {
    const { supervisor, harness } = await restartingSignificant('all_significant');
    expect(await state(supervisor.exited)).toBe('running');
    expect(harness.pendingChildren()).toEqual(['sig1']);
    harness.settleChild('sig1', 'running');
    await flush();
    expect(supervisor.whichChildren().map((child) => [child.id, child.ref?.getSnapshot().status])).toEqual([['sig1', 'active']]);
    expect(harness.running()).toHaveLength(1);
  });

  it("shuts down under 'all_significant' once the restarting child ends for good, and under 'any_significant' at once", async () => {
    const all = await restartingSignificant('all_significant');
    all.harness.settleChild('sig1', 'running');
    await flush();
    all.harness.produced.at(-1)!.send({ type: 'FINISH' });
    await flush();
    expect(await state(all.supervisor.exited)).toBe('shutdown');
    const any = await restartingSignificant('any_significant');
    expect(await state(any.supervisor.exited)).toBe('shutdown');
    expect(any.harness.pendingChildren()).toEqual([]);
    expect(any.harness.running()).toEqual([]);
  });
});

describe('significant validation', () => {
  it('refuses a permanent significant child', async () => {
    const harness = new ChildHarness();
    await expect(
      startSupervisor({ autoShutdown: 'any_significant', children: [harness.child('x', { significant: true })] }),
    ).rejects.toThrow(ConfigError);
  });

  it("refuses a significant child under autoShutdown 'never'", async () => {
    const harness = new ChildHarness();
    await expect(startSupervisor({ children: [harness.child('x', { restart: 'transient', significant: true })] })).rejects.toThrow(
      /significant/,
    );
  });
});
