import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import {
  createTelemetry,
  createTestClock,
  isConfigError,
  isSupervisorError,
  startDynamicSupervisor,
  startSupervisor,
  supervisorChild,
  type StartContext,
} from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { StartHarness, flush } from '../../support/supervision.js';

function context(signal?: AbortSignal): StartContext {
  const clock = createTestClock();
  return { supervisor: 'parent', clock, telemetry: createTelemetry({ clock }), ...(signal ? { signal } : {}) } as StartContext;
}

/** Settles a start's outcome into a word, attached at once so a rejection is never unhandled. */
function outcome(started: unknown): Promise<string> {
  return Promise.resolve(started).then(
    (ref) => `resolved ${(ref as AnyActorRef).getSnapshot().status}`,
    (error: unknown) => `rejected ${isSupervisorError(error) ? error.code : String(error)}`,
  );
}

function configRefusal(act: () => unknown): { option: string; message: string } {
  try {
    act();
  } catch (error) {
    if (isConfigError(error)) return { option: error.option, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('generated supervisor ids', () => {
  it('names a supervisor started without an id supervisor-<n>, a new n each time', async () => {
    const first = await startSupervisor({ children: [] });
    const second = await startSupervisor({ children: [] });
    expect(first.id).toMatch(/^supervisor-[1-9]\d*$/);
    expect(second.id).toMatch(/^supervisor-[1-9]\d*$/);
    expect(Number(second.id.split('-')[1])).toBeGreaterThan(Number(first.id.split('-')[1]));
    await Promise.all([first.stop(), second.stop()]);
  });

  it('names a dynamic supervisor started without an id dynamic-supervisor-<n>', async () => {
    const dynamic = await startDynamicSupervisor();
    expect(dynamic.id).toMatch(/^dynamic-supervisor-[1-9]\d*$/);
    await dynamic.stop();
  });
});

describe('supervisorChild: refused arguments are named', () => {
  it('an empty id is refused as `id`', () => {
    expect(configRefusal(() => supervisorChild('', { children: [] })).option).toBe('id');
  });

  it('options that are not an object are refused as `options`', () => {
    expect(configRefusal(() => supervisorChild('team', { children: [] }, 5 as never)).option).toBe('options');
  });

  it('id, start and type among the options are refused: supervisorChild sets them', () => {
    for (const key of ['id', 'start', 'type']) {
      const refusal = configRefusal(() => supervisorChild('team', { children: [] }, { [key]: 'x' } as never));
      expect(refusal.option).toBe(`options.${key}`);
      expect(refusal.message).toContain('expected absent (supervisorChild sets it)');
    }
  });
});

describe('supervisorChild: the nested supervisor lives and dies with its parent', () => {
  it("a nested supervisor whose child fails to start fails its own start, with the nested failure as cause", async () => {
    const harness = new ChildHarness();
    harness.failNextStarts('worker', 1);
    const clock = createTestClock();
    const error = await startSupervisor(
      { children: [supervisorChild('team', { children: [harness.child('worker')] })] },
      { id: 'root', clock, telemetry: createTelemetry({ clock }) },
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isSupervisorError(error, 'start_failed')).toBe(true);
    expect((error as { childId?: string }).childId).toBe('team');
    const cause = (error as { cause?: unknown }).cause;
    expect(isSupervisorError(cause, 'start_failed')).toBe(true);
    expect((cause as { childId?: string }).childId).toBe('worker');
  });

  it('started for a parent that has already exited (aborted signal), it is killed at once with its children', async () => {
    const harness = new StartHarness();
    const spec = supervisorChild('team', { children: [harness.child('w')] });
    const started = outcome(spec.start(context(AbortSignal.abort())));
    expect(await started).toBe('resolved stopped');
    expect(harness.running()).toEqual([]);
  });

  it('when the parent exits while it is still starting its children, it is killed and its start rejects', async () => {
    const harness = new StartHarness();
    const spec = supervisorChild('team', { children: [harness.child('w', { deferred: true })] });
    const parent = new AbortController();
    const started = outcome(spec.start(context(parent.signal)));
    await flush();
    parent.abort();
    await flush();
    harness.settle(0, 'running');
    expect(await started).toBe('rejected not_running');
    expect(harness.running()).toEqual([]);
  });

  it('started by hand without a signal (a JavaScript caller), it still starts', async () => {
    const harness = new StartHarness();
    const spec = supervisorChild('team', { children: [harness.child('w')] });
    expect(await outcome(spec.start(context()))).toBe('resolved active');
    const failing = supervisorChild('team', { children: [harness.child('v', { outcomes: ['reject'] })] });
    expect(await outcome(failing.start(context()))).toBe('rejected start_failed');
  });
});
