import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, timerDelay } from '../../../src/limiter/timer-delay.js';

describe('the delay a limiter arms its timer with', () => {
  it('is the wait itself when it is short and the clock fine enough', () => {
    expect(timerDelay(0, 100)).toBe(100);
    expect(timerDelay(1_000_000, 0.5)).toBe(0.5);
  });

  it('stays 0 for a wait of 0, at any reading', () => {
    expect(timerDelay(1000, 0)).toBe(0);
    expect(timerDelay(2 ** 84, 0)).toBe(0);
  });

  it('is at most the longest timer, 2^31 - 1 ms', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    expect(timerDelay(0, 2 ** 31 - 1)).toBe(2 ** 31 - 1);
    expect(timerDelay(0, 2 ** 31)).toBe(2 ** 31 - 1);
    expect(timerDelay(0, Number.POSITIVE_INFINITY)).toBe(2 ** 31 - 1);
  });

  it('moves a coarse clock to its next double rather than arming a timer due at once', () => {
    // At 2^53 doubles are 2 apart, at 2^84 they are 2^32 apart.
    expect(timerDelay(2 ** 53, 0.25)).toBe(2);
    expect(timerDelay(2 ** 84, 5)).toBe(2 ** 32);
    expect(timerDelay(2 ** 84, 2 ** 40)).toBe(2 ** 32);
  });
});
