export type { Clock, TestClock } from './clock.js';
export { systemClock, maxTimerDelayMs } from './system-clock.js';
export { createTestClock } from './test-clock.js';
