import { performance } from 'node:perf_hooks';
import type { Clock } from './clock.js';

/**
 * The real clock: `performance.now()` for time, Node's timers for delays. Its timers are
 * `unref`'d, so an idle runtime never holds the process open by itself.
 *
 * @example
 * ```ts
 * const actor = createActor(machine, { clock: systemClock });
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
});
