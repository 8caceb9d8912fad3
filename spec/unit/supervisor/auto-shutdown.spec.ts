import { describe, expect, it } from 'vitest';
import { ConfigError, startSupervisor, type SupervisorSpec } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

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

describe('significant validation', () => {
  it('refuses a permanent significant child', () => {
    const harness = new ChildHarness();
    expect(() =>
      startSupervisor({ autoShutdown: 'any_significant', children: [harness.child('x', { significant: true })] }),
    ).toThrow(ConfigError);
  });

  it("refuses a significant child under autoShutdown 'never'", () => {
    const harness = new ChildHarness();
    expect(() => startSupervisor({ children: [harness.child('x', { restart: 'transient', significant: true })] })).toThrow(
      /significant/,
    );
  });
});
