import { performance } from 'node:perf_hooks';
import type { Clock } from './clock.js';

/**
 * The longest delay one Node timer can wait (about 24.8 days); Node fires a longer one after 1 ms.
 * `systemClock` waits longer delays in several timers, so components never meet that limit.
 */
export const maxTimerDelayMs = 2 ** 31 - 1;

/** A `systemClock` timer: the Node timer now pending, replaced while a long delay is waited out in steps. */
interface SystemTimer {
  current: NodeJS.Timeout;
}

function arm(timer: SystemTimer, fn: () => void, deadline: number, ms: number): void {
  const step = ms > maxTimerDelayMs ? maxTimerDelayMs : ms;
  timer.current = setTimeout(() => {
    const left = deadline - performance.now();
    if (left > 0 && ms > maxTimerDelayMs) arm(timer, fn, deadline, left);
    else fn();
  }, step);
  timer.current.unref();
}

/**
 * The real clock: `performance.now()` for time, Node's timers for delays (any length: a delay
 * past {@link maxTimerDelayMs} is waited out in steps). Its timers are `unref`'d, so an idle
 * runtime never holds the process open by itself.
 *
 * @example
 * ```ts
 * const actor = createActor(machine, { clock: systemClock });
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout(fn: () => void, ms: number): unknown {
    if (!(ms > maxTimerDelayMs)) {
      const timer = setTimeout(fn, ms);
      timer.unref();
      return timer;
    }
    const timer = {} as SystemTimer;
    arm(timer, fn, performance.now() + ms, ms);
    return timer;
  },
  clearTimeout(handle: unknown): void {
    const long = handle as Partial<SystemTimer> | undefined;
    clearTimeout((long && typeof long === 'object' && 'current' in long ? long.current : handle) as NodeJS.Timeout);
  },
});
