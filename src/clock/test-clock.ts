import { ConfigError, InvalidArgumentError } from '../core/index.js';
import type { TestClock } from './clock.js';

interface ScheduledTimer {
  /** The clock that scheduled it: a handle from another clock is not this clock's to clear. */
  readonly owner: object;
  readonly due: number;
  readonly order: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Earlier due time first; timers due at the same time run in the order they were scheduled. */
function runsBefore(a: ScheduledTimer, b: ScheduledTimer): boolean {
  // Stryker disable next-line EqualityOperator: orders are unique (a counter), so `<` and `<=` agree.
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}

/** A binary min-heap of timers: O(log n) schedule and pop, whatever the number pending. */
class TimerHeap {
  private readonly items: ScheduledTimer[] = [];

  peek(): ScheduledTimer | undefined {
    return this.items[0];
  }

  push(timer: ScheduledTimer): void {
    const items = this.items;
    items.push(timer);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!runsBefore(items[index]!, items[parent]!)) break;
      [items[index], items[parent]] = [items[parent]!, items[index]!];
      index = parent;
    }
  }

  pop(): ScheduledTimer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < items.length && runsBefore(items[left]!, items[smallest]!)) smallest = left;
        if (right < items.length && runsBefore(items[right]!, items[smallest]!)) smallest = right;
        if (smallest === index) break;
        [items[index], items[smallest]] = [items[smallest]!, items[index]!];
        index = smallest;
      }
    }
    return top;
  }
}

/**
 * Creates a {@link TestClock} starting at `startMs` (default 0). Time stands still until
 * `advance(ms)` moves it; pass the clock to components and to XState's `createActor` so that
 * machine delays follow it too.
 *
 * A callback that throws does not stop the advance: the remaining due timers still run, and the
 * first error is rethrown when the advance ends. A `startMs` that is not a finite number throws
 * `ConfigError`; `advance` with a negative or non-finite span, and `setTimeout` with something that
 * is not a function, throw `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * const clock = createTestClock();
 * clock.setTimeout(() => console.log('fired'), 100);
 * clock.advance(100); // prints "fired"
 * ```
 */
export function createTestClock(startMs = 0): TestClock {
  if (!Number.isFinite(startMs)) throw new ConfigError('startMs', startMs, 'a finite number');
  let now = startMs;
  let order = 0;
  let pending = 0;
  const heap = new TimerHeap();
  const owner = {};

  const dropCancelled = (): void => {
    while (heap.peek()?.cancelled) heap.pop();
  };

  return {
    now: () => now,
    setTimeout(fn: () => void, ms: number): unknown {
      if (typeof fn !== 'function') throw new InvalidArgumentError('setTimeout.fn', fn, 'a function');
      // Stryker disable next-line EqualityOperator: a delay of 0 is 0 either way.
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
      const timer: ScheduledTimer = { owner, due: now + delay, order: order++, fn, cancelled: false };
      heap.push(timer);
      pending += 1;
      return timer;
    },
    clearTimeout(handle: unknown): void {
      const timer = handle as ScheduledTimer | undefined;
      if (typeof timer === 'object' && timer !== null && timer.owner === owner && !timer.cancelled) {
        timer.cancelled = true;
        pending -= 1;
      }
    },
    advance(ms: number): void {
      if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('advance.ms', ms, 'a finite number >= 0');
      const target = now + ms;
      let firstError: { error: unknown } | undefined;
      for (;;) {
        dropCancelled();
        const next = heap.peek();
        if (next === undefined || next.due > target) break;
        heap.pop();
        next.cancelled = true;
        pending -= 1;
        now = next.due;
        try {
          next.fn();
        } catch (error) {
          firstError ??= { error };
        }
      }
      now = target;
      if (firstError) throw firstError.error;
    },
    pendingTimers: () => pending,
    nextDue(): number | undefined {
      dropCancelled();
      return heap.peek()?.due;
    },
  };
}
