import { describe, expect, it, vi } from 'vitest';
import { createActor, createMachine } from 'xstate';
import {
  componentContextOf,
  failComponentActor,
  finishComponentActor,
  startComponentActor,
} from '../../../src/supervisor/component-actor.js';
import { SHUTDOWN_EVENT } from '../../../src/supervisor/shutdown-protocol.js';

function component(id = 'component') {
  const hooks = { onShutdownRequested: vi.fn(), onKilled: vi.fn() };
  const ref = startComponentActor(id, { kind: 'test', name: id }, hooks);
  return { ref, hooks };
}

describe("a component's actor", () => {
  it('carries the id it was started with', () => {
    expect(component('pool-7').ref.id).toBe('pool-7');
  });

  it('answers can() for the shutdown event only', () => {
    const snapshot = component().ref.getSnapshot() as { can(event: { type: string }): boolean };
    expect(snapshot.can(SHUTDOWN_EVENT)).toBe(true);
    expect(snapshot.can({ type: 'anything.else' })).toBe(false);
  });

  it('persists its snapshot as it is', () => {
    const { ref } = component();
    expect(ref.getPersistedSnapshot()).toBe(ref.getSnapshot());
  });

  it('ignores events it does not know: stays active and tells the component nothing', () => {
    const { ref, hooks } = component();
    const before = ref.getSnapshot();
    ref.send({ type: 'unknown.event' });
    expect(ref.getSnapshot()).toBe(before);
    expect(ref.getSnapshot().status).toBe('active');
    expect(hooks.onShutdownRequested).not.toHaveBeenCalled();
    expect(hooks.onKilled).not.toHaveBeenCalled();
  });

  it('tells the component about a shutdown request and stays active', () => {
    const { ref, hooks } = component();
    ref.send(SHUTDOWN_EVENT);
    expect(hooks.onShutdownRequested).toHaveBeenCalledTimes(1);
    expect(ref.getSnapshot().status).toBe('active');
  });

  it('keeps the first end: finished then failed stays done with its output', () => {
    const { ref } = component();
    finishComponentActor(ref, 'result');
    failComponentActor(ref, new Error('late'));
    finishComponentActor(ref, 'other');
    expect(ref.getSnapshot()).toMatchObject({ status: 'done', output: 'result', error: undefined });
  });

  it('keeps the first end: failed then finished stays in error', () => {
    const { ref } = component();
    const error = new Error('first');
    failComponentActor(ref, error);
    finishComponentActor(ref, 'late');
    expect(ref.getSnapshot()).toMatchObject({ status: 'error', error });
  });

  it('ending an actor that already ended sends it nothing, so XState warns of nothing', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const finished = component().ref;
      finishComponentActor(finished, 'result');
      finishComponentActor(finished, 'again');
      failComponentActor(finished, new Error('late'));
      const failed = component().ref;
      failComponentActor(failed, new Error('first'));
      failComponentActor(failed, new Error('again'));
      finishComponentActor(failed, 'late');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('is recognised by componentContextOf; other actors are not', () => {
    expect(componentContextOf(component('c').ref)).toEqual({ kind: 'test', name: 'c' });
    expect(componentContextOf(createActor(createMachine({})).start())).toBeUndefined();
    expect(componentContextOf(undefined)).toBeUndefined();
  });
});
