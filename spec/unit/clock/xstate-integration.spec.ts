import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { createTestClock } from '../../../src/index.js';

const delayed = createMachine({
  id: 'delayed',
  initial: 'waiting',
  states: {
    waiting: { after: { 1000: 'next' } },
    next: {},
  },
});

describe('XState delays follow the TestClock passed to createActor', () => {
  it('transitions only when the clock has advanced the full 1000 ms', () => {
    const clock = createTestClock();
    const actor = createActor(delayed, { clock }).start();
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(1000);

    clock.advance(999);
    expect(actor.getSnapshot().value).toBe('waiting');

    clock.advance(1);
    expect(actor.getSnapshot().value).toBe('next');
    expect(clock.pendingTimers()).toBe(0);
    actor.stop();
  });

  it('measures the delay from when the actor entered the state', () => {
    const clock = createTestClock(5_000);
    clock.advance(250);
    const actor = createActor(delayed, { clock }).start();
    clock.advance(999);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe('next');
    actor.stop();
  });

  it('cancels the delay on the clock when the actor stops first', () => {
    const clock = createTestClock();
    const actor = createActor(delayed, { clock }).start();
    expect(clock.pendingTimers()).toBe(1);
    actor.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(1000);
    expect(actor.getSnapshot().value).toBe('waiting');
  });
});
