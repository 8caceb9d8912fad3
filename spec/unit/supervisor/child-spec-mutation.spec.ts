import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { isConfigError, startDynamicSupervisor, startSupervisor, type ChildSpec } from '../../../src/index.js';
import { splitChildOptions } from '../../../src/supervisor/internal.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

const start = () => createActor(createMachine({}));

async function refusal(started: Promise<unknown>): Promise<{ option: string; message: string }> {
  const error = await started.then(
    () => new Error('resolved instead of rejecting'),
    (caught: unknown) => caught,
  );
  if (!isConfigError(error)) throw error;
  return { option: error.option, message: error.message };
}

describe('supervisor spec validation: the refusal says what was expected', () => {
  it('a significant permanent child', async () => {
    const { option, message } = await refusal(
      startSupervisor({ autoShutdown: 'any_significant', children: [{ id: 'a', start, significant: true }] }),
    );
    expect(option).toBe('children[0].significant');
    expect(message).toContain('expected false for a permanent child (only transient or temporary children can be significant)');
  });

  it("a significant child under autoShutdown 'never'", async () => {
    const { option, message } = await refusal(startSupervisor({ children: [{ id: 'a', start, restart: 'transient', significant: true }] }));
    expect(option).toBe('children[0].significant');
    expect(message).toContain("expected false under autoShutdown 'never'");
  });

  it('children that are not an array', async () => {
    const { option, message } = await refusal(startSupervisor({ children: 'a' as unknown as ChildSpec[] }));
    expect(option).toBe('children');
    expect(message).toContain('expected an array of child specs');
  });

  it('two children with one id', async () => {
    const { option, message } = await refusal(startSupervisor({ children: [{ id: 'a', start }, { id: 'a', start }] }));
    expect(option).toBe('children[1].id');
    expect(message).toContain('expected an id no other child has');
  });

  it("a dynamic supervisor's child spec is named `spec`", async () => {
    const dynamic = await startDynamicSupervisor({ id: 'dyn' });
    expect((await refusal(dynamic.startChild({ start: 5 as never }))).option).toBe('spec.start');
    await dynamic.stop();
  });
});

describe('splitChildOptions: the child-spec fields given, and nothing for those absent', () => {
  it('leaves absent fields out altogether (no key holding undefined)', () => {
    const { child, own } = splitChildOptions({ name: 'payments' } as { name: string } & Partial<ChildSpec>);
    expect(Object.keys(child)).toEqual([]);
    expect(own).toEqual({ name: 'payments' });
  });

  it('keeps each field given', () => {
    const backoff = { minMs: 1, maxMs: 2 };
    const { child, own } = splitChildOptions({
      name: 'payments',
      restart: 'transient',
      shutdown: 10,
      type: 'supervisor',
      significant: true,
      backoff,
    } as { name: string } & Partial<ChildSpec>);
    expect(child).toStrictEqual({ restart: 'transient', shutdown: 10, type: 'supervisor', significant: true, backoff });
    expect(own).toEqual({ name: 'payments' });
  });
});

describe('a dynamic supervisor restarts one_for_one', () => {
  it('restarts only the crashed child, not the children started after it', async () => {
    const recorded = recordTelemetry();
    const machine = createMachine({
      initial: 'running',
      states: { running: { on: { CRASH: 'crashed' } }, crashed: { entry: () => { throw new Error('crashed'); } } },
    });
    const dynamic = await startDynamicSupervisor({ id: 'dyn', clock: recorded.clock, telemetry: recorded.telemetry, intensity: 10 });
    const first = await dynamic.startChild({ start: () => createActor(machine) });
    const second = await dynamic.startChild({ start: () => createActor(machine) });
    first.ref.send({ type: 'CRASH' });
    await flush();
    const refs = new Map(dynamic.whichChildren().map((child) => [child.id, child.ref]));
    expect(refs.get(first.id)).not.toBe(first.ref);
    expect(refs.get(second.id)).toBe(second.ref);
    await dynamic.stop();
  });
});
