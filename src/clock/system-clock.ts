import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '../core/index.js';
import type { Clock } from './clock.js';

/**
 * The longest delay one Node timer can wait (about 24.8 days); Node fires a longer one after 1 ms.
 * `systemClock` waits longer delays in several timers, so components never meet that limit.
 */
export const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * A `systemClock` timer. Node measures delays on the event loop's coarse clock, so its timer can
 * fire a little before `performance.now()` says the delay has passed (seen: up to 1 ms); the timer
 * then waits out the rest, so that no timer ever fires early on `systemClock.now()`. A delay past
 * {@link maxTimerDelayMs} is waited out in steps the same way.
 */
class SystemTimer {
  current: NodeJS.Timeout;

  constructor(
    private readonly fn: () => void,
    private readonly deadline: number,
    ms: number,
  ) {
    this.current = this.arm(ms);
  }

  /** Whether the timer holds the process open (never: it is unref'd). */
  hasRef(): boolean {
    return this.current.hasRef();
  }

  private arm(ms: number): NodeJS.Timeout {
    // Stryker disable next-line EqualityOperator: a delay equal to the cap is the cap either way.
    const timer = setTimeout(() => this.fire(), ms > maxTimerDelayMs ? maxTimerDelayMs : ms);
    timer.unref();
    return timer;
  }

  private fire(): void {
    const left = this.deadline - performance.now();
    // Stryker disable next-line EqualityOperator: re-arming for 0 ms fires again at once, with nothing left.
    if (left > 0) this.current = this.arm(left);
    else this.fn();
  }
}

/**
 * The real clock: `performance.now()` for time, Node's timers for delays (any length: a delay
 * past {@link maxTimerDelayMs} is waited out in steps). A timer never fires before `now()` has
 * advanced by its delay. Its timers are `unref`'d, so an idle runtime never holds the process
 * open by itself. `setTimeout` with something that is not a function throws `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * const actor = createActor(machine, { clock: systemClock });
 * ```
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout(fn: () => void, ms: number): unknown {
    // Refused here: a timer whose callback is not a function would throw, uncaught, when it fires.
    if (typeof fn !== 'function') throw new InvalidArgumentError('setTimeout.fn', fn, 'a function');
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a deadline already past (ms <= 0 or NaN) fires at the first tick, as 0 does.
    return new SystemTimer(fn, performance.now() + (ms > 0 ? ms : 0), ms);
  },
  clearTimeout(handle: unknown): void {
    if (handle instanceof SystemTimer) clearTimeout(handle.current);
  },
});
