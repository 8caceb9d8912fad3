import { maxTimerDelayMs } from '../clock/index.js';
import { delayUntil, nextUp } from './algorithms/float-time.js';

/** The longest delay one Node timer takes (see `maxTimerDelayMs`). */
export const MAX_TIMER_MS = maxTimerDelayMs;

/**
 * The delay to arm a limiter's timer with, at clock reading `now`, for a wait of `ms`: at most
 * {@link MAX_TIMER_MS}, since every timer of the limiters re-checks the time when it fires and
 * waits again for what is left, so a long wait is a few timers in a row; and at least enough to
 * move the clock to its next double, so that on a clock whose doubles are coarser than the delay
 * (for the longest timer, readings from about 2^84 ms on) a timer is never due at the very instant
 * it was armed, which a simulated clock would run, and re-arm, for ever. A delay of 0 stays 0.
 */
export function timerDelay(now: number, ms: number): number {
  // Stryker disable next-line EqualityOperator: at ms === MAX_TIMER_MS both branches give MAX_TIMER_MS.
  const delay = ms < MAX_TIMER_MS ? ms : MAX_TIMER_MS;
  return delay <= 0 || now + delay > now ? delay : delayUntil(now, nextUp(now));
}
