import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/index.js';
import { RestartWaits, type QueuedWait } from '../../../src/supervisor/restart-waits.js';

/** A clock whose time and timers a spec moves by hand: it can fire a timer late, or early. */
class ManualClock implements Clock {
  time = 0;
  setTimeouts = 0;
  clearTimeouts = 0;
  private readonly timers = new Map<number, { fn: () => void; due: number }>();
  private nextHandle = 1;

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    this.setTimeouts += 1;
    const handle = this.nextHandle++;
    this.timers.set(handle, { fn, due: this.time + ms });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.clearTimeouts += 1;
    this.timers.delete(handle as number);
  }

  /** The due times of the armed timers. */
  armed(): number[] {
    return [...this.timers.values()].map((timer) => timer.due);
  }

  /** Sets the time to `at` and fires the one armed timer, whatever its due time. */
  fireAt(at: number): void {
    expect(this.timers.size, 'exactly one timer armed').toBe(1);
    const [handle, timer] = [...this.timers][0]!;
    this.timers.delete(handle);
    this.time = at;
    timer.fn();
  }
}

interface Wait extends QueuedWait {
  readonly name: string;
}

const wait = (name: string, due: number): Wait => ({ name, due, order: 0, index: -1 });

function queue() {
  const clock = new ManualClock();
  const due: string[] = [];
  const onDue: { hook?: (wait: Wait) => void } = {};
  const waits = new RestartWaits<Wait>(clock, (fallen) => {
    due.push(fallen.name);
    onDue.hook?.(fallen);
  });
  return { clock, due, waits, onDue };
}

describe('RestartWaits: waits fall due earliest first, ties in the order added', () => {
  it('hands waits due at the same time over in the order they were added', () => {
    const { clock, due, waits } = queue();
    for (const name of ['a', 'b', 'c', 'd', 'e']) waits.add(wait(name, 100));
    clock.fireAt(100);
    expect(due).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps the order of ties after an earlier wait leaves the queue', () => {
    const { clock, due, waits } = queue();
    waits.add(wait('first', 50));
    for (const name of ['b', 'c', 'd']) waits.add(wait(name, 100));
    clock.fireAt(50);
    expect(due).toEqual(['first']);
    clock.fireAt(100);
    expect(due).toEqual(['first', 'b', 'c', 'd']);
  });

  it('re-orders the queue after the earliest leaves, so the next earliest is the right child (not the left)', () => {
    const { clock, due, waits } = queue();
    for (const [name, at] of [['w1', 1], ['w5', 5], ['w3', 3], ['w10', 10]] as const) waits.add(wait(name, at));
    clock.fireAt(1);
    expect(clock.armed()).toEqual([3]);
    clock.fireAt(3);
    expect(due).toEqual(['w1', 'w3']);
  });

  it('hands over, in one firing, every wait due by the time the timer actually fires', () => {
    const { clock, due, waits } = queue();
    waits.add(wait('a', 100));
    waits.add(wait('b', 150));
    waits.add(wait('c', 300));
    clock.fireAt(200);
    expect(due).toEqual(['a', 'b']);
    expect(clock.armed()).toEqual([300]);
  });

  it('treats what the timer was armed for as due even when the clock reads a hair earlier', () => {
    const { clock, due, waits } = queue();
    waits.add(wait('a', 100));
    waits.add(wait('b', 200));
    clock.fireAt(99.999);
    expect(due).toEqual(['a']);
  });
});

describe('RestartWaits: one timer, armed for the earliest wait', () => {
  it('arms a timer only when the added wait is the new earliest', () => {
    const { clock, waits } = queue();
    waits.add(wait('a', 100));
    expect(clock.setTimeouts).toBe(1);
    waits.add(wait('later', 200));
    waits.add(wait('same', 100));
    expect(clock.setTimeouts).toBe(1);
    expect(clock.armed()).toEqual([100]);
    waits.add(wait('earlier', 50));
    expect(clock.setTimeouts).toBe(2);
    expect(clock.armed()).toEqual([50]);
  });

  it('after a firing, arms once for the earliest wait left, even when a wait added while firing already fell due', () => {
    const { clock, due, waits, onDue } = queue();
    waits.add(wait('a', 100));
    waits.add(wait('y', 500));
    onDue.hook = (fallen) => {
      if (fallen.name === 'a') waits.add(wait('z', 100));
    };
    clock.fireAt(100);
    expect(due).toEqual(['a', 'z']);
    expect(clock.armed()).toEqual([500]);
    expect(clock.setTimeouts).toBe(2);
  });

  it('arms nothing once the last wait has fallen due', () => {
    const { clock, due, waits } = queue();
    waits.add(wait('a', 100));
    clock.fireAt(100);
    expect(due).toEqual(['a']);
    expect(clock.armed()).toEqual([]);
  });

  it('clears the timer when the last wait is removed, and never clears a timer it does not hold', () => {
    const { clock, waits } = queue();
    const a = wait('a', 100);
    waits.add(a);
    waits.remove(a);
    expect(clock.armed()).toEqual([]);
    expect(clock.clearTimeouts).toBe(1);
  });
});

describe('RestartWaits: remove and clear', () => {
  it('marks a removed wait as not queued (index -1), and removing it again changes nothing', () => {
    const { clock, due, waits } = queue();
    const a = wait('a', 100);
    const b = wait('b', 200);
    waits.add(a);
    waits.add(b);
    waits.remove(a);
    expect(a.index).toBe(-1);
    waits.remove(a);
    expect(b.index).toBe(0);
    clock.fireAt(200);
    expect(due).toEqual(['b']);
  });

  it('ignores a wait that was never queued here, even one whose index points into the queue', () => {
    const { clock, due, waits } = queue();
    waits.add(wait('a', 100));
    waits.add(wait('b', 200));
    const stranger: Wait = { name: 'stranger', due: 150, order: 0, index: 0 };
    waits.remove(stranger);
    waits.remove({ name: 'other', due: 150, order: 0, index: 1 });
    clock.fireAt(100);
    clock.fireAt(200);
    expect(due).toEqual(['a', 'b']);
  });

  it('clear marks every wait as not queued and hands none over', () => {
    const { clock, due, waits } = queue();
    const a = wait('a', 100);
    const b = wait('b', 200);
    waits.add(a);
    waits.add(b);
    waits.clear();
    expect([a.index, b.index]).toEqual([-1, -1]);
    expect(clock.armed()).toEqual([]);
    waits.add(wait('c', 300));
    clock.fireAt(300);
    expect(due).toEqual(['c']);
  });
});
