import { describe, expect, it } from 'vitest';
import { createTestClock } from '../../../src/index.js';

describe('createTestClock starts at startMs and stands still until advanced', () => {
  it('starts at 0 by default', () => {
    expect(createTestClock().now()).toBe(0);
  });

  it('starts at the given startMs', () => {
    const clock = createTestClock(1_700);
    expect(clock.now()).toBe(1_700);
    expect(clock.now()).toBe(1_700);
  });

  it('rejects a start time that is not a finite number with ConfigError naming startMs', () => {
    expect(() => createTestClock(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', option: 'startMs' }));
    expect(() => createTestClock(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', option: 'startMs' }));
  });
});

describe('advance(ms) moves now() to start + ms', () => {
  it('with no timers pending', () => {
    const clock = createTestClock(100);
    clock.advance(250);
    expect(clock.now()).toBe(350);
    clock.advance(0);
    expect(clock.now()).toBe(350);
  });

  it('past the last due timer, not just to it', () => {
    const clock = createTestClock(10);
    clock.setTimeout(() => {}, 5);
    clock.advance(40);
    expect(clock.now()).toBe(50);
  });

  it('even when a callback throws', () => {
    const clock = createTestClock();
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 10);
    expect(() => clock.advance(30)).toThrow('boom');
    expect(clock.now()).toBe(30);
  });
});

describe('advance fires every timer due within the span, in time order', () => {
  it('runs timers by due time whatever the order they were scheduled in', () => {
    const clock = createTestClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c@30'), 30);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('d@40'), 40);
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.advance(40);
    expect(fired).toEqual(['a@10', 'b@20', 'c@30', 'd@40']);
  });

  it('fires a timer due exactly at the end of the span, and none due after it', () => {
    const clock = createTestClock();
    const fired: number[] = [];
    for (const delay of [5, 10, 11, 50]) clock.setTimeout(() => fired.push(delay), delay);
    clock.advance(10);
    expect(fired).toEqual([5, 10]);
    clock.advance(1);
    expect(fired).toEqual([5, 10, 11]);
    clock.advance(38);
    expect(fired).toEqual([5, 10, 11]);
    clock.advance(1);
    expect(fired).toEqual([5, 10, 11, 50]);
  });

  it('does not fire a timer before its due time across several small advances', () => {
    const clock = createTestClock();
    let fired = 0;
    clock.setTimeout(() => (fired += 1), 100);
    for (let step = 0; step < 99; step += 1) clock.advance(1);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    clock.advance(1_000);
    expect(fired).toBe(1);
  });

  it('treats a negative or NaN delay as 0 ms', () => {
    const clock = createTestClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('negative'), -5);
    clock.setTimeout(() => fired.push('nan'), Number.NaN);
    expect(clock.nextDue()).toBe(0);
    clock.advance(0);
    expect(fired).toEqual(['negative', 'nan']);
  });
});

describe('timers due at the same time run in scheduling order', () => {
  it('keeps scheduling order among equal due times, interleaved with other times', () => {
    const clock = createTestClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('first@20'), 20);
    clock.setTimeout(() => fired.push('only@10'), 10);
    clock.setTimeout(() => fired.push('second@20'), 20);
    clock.setTimeout(() => fired.push('third@20'), 20);
    clock.advance(20);
    expect(fired).toEqual(['only@10', 'first@20', 'second@20', 'third@20']);
  });

  it('keeps scheduling order for many timers at the same due time', () => {
    const clock = createTestClock();
    const fired: number[] = [];
    for (let index = 0; index < 100; index += 1) clock.setTimeout(() => fired.push(index), 7);
    clock.advance(7);
    expect(fired).toEqual(Array.from({ length: 100 }, (_, index) => index));
  });

  it('runs a timer scheduled at the same due time by an earlier callback after those already scheduled', () => {
    const clock = createTestClock();
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push('a@10');
      clock.setTimeout(() => fired.push('c@10 (scheduled by a)'), 0);
    }, 10);
    clock.setTimeout(() => fired.push('b@10'), 10);
    clock.advance(10);
    expect(fired).toEqual(['a@10', 'b@10', 'c@10 (scheduled by a)']);
  });
});

describe('timers scheduled by callbacks during an advance', () => {
  it('run in the same advance when due within it', () => {
    const clock = createTestClock();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => {
      fired.push(['outer', clock.now()]);
      clock.setTimeout(() => fired.push(['inner', clock.now()]), 15);
    }, 10);
    clock.advance(30);
    expect(fired).toEqual([
      ['outer', 10],
      ['inner', 25],
    ]);
  });

  it('run in the same advance when scheduled with 0 ms, including at the end of the span', () => {
    const clock = createTestClock();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => {
      fired.push(['at end', clock.now()]);
      clock.setTimeout(() => fired.push(['zero after end', clock.now()]), 0);
    }, 30);
    clock.advance(30);
    expect(fired).toEqual([
      ['at end', 30],
      ['zero after end', 30],
    ]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('run chains of timers that reschedule themselves while still due', () => {
    const clock = createTestClock();
    const ticks: number[] = [];
    const tick = (): void => {
      ticks.push(clock.now());
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    clock.advance(45);
    expect(ticks).toEqual([10, 20, 30, 40]);
    expect(clock.nextDue()).toBe(50);
  });

  it('stay pending when due after the target', () => {
    const clock = createTestClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      clock.setTimeout(() => fired.push(clock.now()), 21);
    }, 10);
    clock.advance(30);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(31);
    clock.advance(1);
    expect(fired).toEqual([31]);
  });
});

describe('now() inside a callback equals that timer’s due time', () => {
  it('reports each timer’s own due time, not the target of the advance', () => {
    const clock = createTestClock(1_000);
    const seen: Array<[number, number]> = [];
    for (const delay of [3, 17, 17, 250]) clock.setTimeout(() => seen.push([delay, clock.now()]), delay);
    clock.advance(500);
    expect(seen).toEqual([
      [3, 1_003],
      [17, 1_017],
      [17, 1_017],
      [250, 1_250],
    ]);
    expect(clock.now()).toBe(1_500);
  });

  it('measures a callback-scheduled delay from that callback’s due time', () => {
    const clock = createTestClock();
    let innerAt: number | undefined;
    clock.setTimeout(() => {
      clock.setTimeout(() => (innerAt = clock.now()), 7);
    }, 5);
    clock.advance(100);
    expect(innerAt).toBe(12);
  });
});

describe('clearTimeout cancels pending timers and ignores every other handle', () => {
  it('a cleared pending timer never fires', () => {
    const clock = createTestClock();
    const fired: string[] = [];
    const handle = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => fired.push('kept'), 10);
    clock.clearTimeout(handle);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(100);
    expect(fired).toEqual(['kept']);
  });

  it('a callback can clear a later timer of the same advance', () => {
    const clock = createTestClock();
    const fired: string[] = [];
    let later: unknown;
    clock.setTimeout(() => {
      fired.push('first');
      clock.clearTimeout(later);
    }, 5);
    later = clock.setTimeout(() => fired.push('later'), 8);
    clock.advance(10);
    expect(fired).toEqual(['first']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('clearing a handle twice counts it once', () => {
    const clock = createTestClock();
    const handle = clock.setTimeout(() => {}, 10);
    clock.setTimeout(() => {}, 20);
    clock.clearTimeout(handle);
    clock.clearTimeout(handle);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('clearing a fired handle changes nothing', () => {
    const clock = createTestClock();
    const handle = clock.setTimeout(() => {}, 10);
    clock.setTimeout(() => {}, 20);
    clock.advance(10);
    expect(clock.pendingTimers()).toBe(1);
    clock.clearTimeout(handle);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(20);
  });

  it('clearing a handle this clock never issued changes nothing', () => {
    const clock = createTestClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('pending'), 10);
    for (const unknown of [undefined, null, 0, 42, 'timer', {}, Symbol('timer'), () => {}]) {
      expect(() => clock.clearTimeout(unknown)).not.toThrow();
    }
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(10);
    expect(fired).toEqual(['pending']);
  });

  it('clearing another test clock’s handle affects neither clock', () => {
    const clock = createTestClock();
    const other = createTestClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('mine'), 10);
    const foreign = other.setTimeout(() => fired.push('other'), 10);
    clock.clearTimeout(foreign);
    expect(clock.pendingTimers()).toBe(1);
    expect(other.pendingTimers()).toBe(1);
    clock.advance(10);
    other.advance(10);
    expect(fired).toEqual(['mine', 'other']);
  });
});

describe('pendingTimers() and nextDue() describe the timers still to fire', () => {
  it('are 0 and undefined on a fresh clock', () => {
    const clock = createTestClock(5);
    expect(clock.pendingTimers()).toBe(0);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('count scheduled timers and report the earliest absolute due time', () => {
    const clock = createTestClock(100);
    clock.setTimeout(() => {}, 30);
    clock.setTimeout(() => {}, 10);
    clock.setTimeout(() => {}, 20);
    expect(clock.pendingTimers()).toBe(3);
    expect(clock.nextDue()).toBe(110);
  });

  it('drop fired timers', () => {
    const clock = createTestClock();
    clock.setTimeout(() => {}, 10);
    clock.setTimeout(() => {}, 20);
    clock.advance(15);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(20);
    clock.advance(5);
    expect(clock.pendingTimers()).toBe(0);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('skip a cleared earliest timer', () => {
    const clock = createTestClock();
    const earliest = clock.setTimeout(() => {}, 10);
    clock.setTimeout(() => {}, 20);
    clock.clearTimeout(earliest);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(20);
  });

  it('see, from inside a callback, the timers still pending in the advance', () => {
    const clock = createTestClock();
    const seen: Array<[number, number | undefined]> = [];
    clock.setTimeout(() => seen.push([clock.pendingTimers(), clock.nextDue()]), 10);
    clock.setTimeout(() => seen.push([clock.pendingTimers(), clock.nextDue()]), 20);
    clock.advance(20);
    expect(seen).toEqual([
      [1, 20],
      [0, undefined],
    ]);
  });
});

describe('a throwing callback does not stop the advance', () => {
  it('later timers still run and the error is rethrown at the end', () => {
    const clock = createTestClock();
    const fired: number[] = [];
    const failure = new Error('first failure');
    clock.setTimeout(() => fired.push(5), 5);
    clock.setTimeout(() => {
      fired.push(10);
      throw failure;
    }, 10);
    clock.setTimeout(() => fired.push(20), 20);
    let thrown: unknown;
    try {
      clock.advance(30);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(failure);
    expect(fired).toEqual([5, 10, 20]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rethrows the first of several errors', () => {
    const clock = createTestClock();
    const first = new Error('first');
    const second = new Error('second');
    let ran = 0;
    clock.setTimeout(() => {
      ran += 1;
      throw second;
    }, 20);
    clock.setTimeout(() => {
      ran += 1;
      throw first;
    }, 10);
    clock.setTimeout(() => (ran += 1), 30);
    expect(() => clock.advance(30)).toThrow(first);
    expect(ran).toBe(3);
  });

  it('rethrows non-Error values as they were thrown', () => {
    const clock = createTestClock();
    clock.setTimeout(() => {
      throw 'plain string';
    }, 1);
    let thrown: unknown;
    try {
      clock.advance(1);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe('plain string');
  });

  it('leaves the clock usable for the next advance', () => {
    const clock = createTestClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 1);
    clock.setTimeout(() => fired.push(clock.now()), 50);
    expect(() => clock.advance(10)).toThrow('boom');
    expect(() => clock.advance(40)).not.toThrow();
    expect(fired).toEqual([50]);
  });
});

describe('advance rejects a negative or non-finite span with InvalidArgumentError', () => {
  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['+Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('rejects %s and leaves time and timers untouched', (_label, span) => {
    const clock = createTestClock(10);
    let fired = 0;
    clock.setTimeout(() => (fired += 1), 0);
    expect(() => clock.advance(span)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'advance.ms' }));
    expect(clock.now()).toBe(10);
    expect(fired).toBe(0);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('rejects a value that is not a number', () => {
    const clock = createTestClock();
    expect(() => clock.advance('10' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'advance.ms' }));
    expect(clock.now()).toBe(0);
  });
});

describe('the test clock names what was wrong in its error messages', () => {
  it('says what startMs, advance and setTimeout expected', () => {
    expect(() => createTestClock(Number.NaN)).toThrow('Invalid option startMs: expected a finite number');
    const clock = createTestClock();
    expect(() => clock.advance(-1)).toThrow('Invalid argument advance.ms: expected a finite number >= 0, got -1');
    expect(() => clock.setTimeout(42 as unknown as () => void, 1)).toThrow('Invalid argument setTimeout.fn: expected a function, got 42');
  });
});
