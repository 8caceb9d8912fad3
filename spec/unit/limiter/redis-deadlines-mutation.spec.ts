import { describe, expect, it } from 'vitest';
import { createTestClock, type Clock } from '../../../src/index.js';
import { Deadlines, type Waiting } from '../../../src/limiter/redis/deadlines.js';

/** A wait that counts its expiries; `settle` marks it settled the other way. */
interface CountingWait extends Waiting {
  settled: boolean;
  expiries: number;
}

function wait(): CountingWait {
  return {
    deadline: Number.NaN,
    settled: false,
    expiries: 0,
    expire() {
      this.expiries += 1;
    },
  };
}

/** The length of the array behind the queue (private: the storage the compaction bounds). */
function storageOf(deadlines: Deadlines): number {
  return (deadlines as unknown as { queue: unknown[] }).queue.length;
}

describe('Redis hit deadlines', () => {
  it('expire only the waits still unsettled when their deadline passes', () => {
    const clock = createTestClock();
    const deadlines = new Deadlines(clock, 100);
    const first = wait();
    const second = wait();
    expect(deadlines.add(first)).toBe(0);
    deadlines.add(second);
    expect([first.deadline, second.deadline]).toEqual([100, 100]);
    // The second settles while the first, ahead of it, still waits: the queue cannot let it go yet.
    second.settled = true;
    deadlines.settled();
    clock.advance(99);
    expect([first.expiries, second.expiries]).toEqual([0, 0]);
    clock.advance(1);
    expect([first.expiries, second.expiries]).toEqual([1, 0]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('clear only a timer they armed', () => {
    const test = createTestClock();
    const cleared: unknown[] = [];
    const clock: Clock = {
      now: () => test.now(),
      setTimeout: (fn, ms) => test.setTimeout(fn, ms),
      clearTimeout: (handle) => {
        cleared.push(handle);
        test.clearTimeout(handle);
      },
    };
    const deadlines = new Deadlines(clock, 100);
    const expiring = wait();
    deadlines.add(expiring);
    test.advance(100);
    expect(expiring.expiries).toBe(1);
    // The timer fired and the queue emptied: there was nothing left to clear.
    expect(cleared).toEqual([]);

    const settling = wait();
    deadlines.add(settling);
    expect(test.pendingTimers()).toBe(1);
    settling.settled = true;
    deadlines.settled();
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toBeDefined();
    expect(test.pendingTimers()).toBe(0);
  });

  it('compact their storage once 1024 spent slots are half of it, and still expire what is left on time', () => {
    const clock = createTestClock();
    const deadlines = new Deadlines(clock, 100);
    const waits = Array.from({ length: 3000 }, () => wait());
    for (const each of waits) deadlines.add(each);
    const changes: Array<[settled: number, storage: number]> = [];
    let storage = storageOf(deadlines);
    expect(storage).toBe(3000);
    for (let settled = 1; settled < waits.length; settled += 1) {
      waits[settled - 1]!.settled = true;
      deadlines.settled();
      if (storageOf(deadlines) !== storage) {
        storage = storageOf(deadlines);
        changes.push([settled, storage]);
      }
    }
    // 1500 spent of 3000; then 1024 spent of the 1500 left; 475 spent of 476 is not enough.
    expect(changes).toEqual([
      [1500, 1500],
      [2524, 476],
    ]);
    const last = waits[2999]!;
    clock.advance(99);
    expect(last.expiries).toBe(0);
    clock.advance(1);
    expect(last.expiries).toBe(1);
    expect(waits.slice(0, 2999).every((each) => each.expiries === 0)).toBe(true);
    expect(storageOf(deadlines)).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('Redis hit deadlines, re-entered from an expiry', () => {
  // A wait's expiry reports to telemetry synchronously, and a subscriber may hit the limiter again.
  it('a wait added while another expires leaves one timer, for the oldest wait, and none once every wait settles', () => {
    const clock = createTestClock();
    const deadlines = new Deadlines(clock, 100);
    const added = wait();
    const expiring: CountingWait = {
      ...wait(),
      expire() {
        this.expiries += 1;
        deadlines.add(added);
      },
    };
    const waiting = wait();
    deadlines.add(expiring);
    clock.advance(50);
    deadlines.add(waiting);
    clock.advance(50);
    expect(expiring.expiries).toBe(1);
    expect(added.deadline).toBe(200);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(50);
    expect(waiting.expiries).toBe(1);
    waiting.settled = true;
    added.settled = true;
    deadlines.settled();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(100);
    expect(added.expiries).toBe(0);
  });
});
