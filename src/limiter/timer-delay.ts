import { maxTimerDelayMs } from '../clock/index.js';

/** The longest delay one Node timer takes (see `maxTimerDelayMs`). */
export const MAX_TIMER_MS = maxTimerDelayMs;

/**
 * A delay a real timer can wait: at most {@link MAX_TIMER_MS}. Every timer of the limiters
 * re-checks the time when it fires and waits again for what is left, so a long wait is a few
 * timers in a row.
 */
export function timerDelay(ms: number): number {
  return ms < MAX_TIMER_MS ? ms : MAX_TIMER_MS;
}
