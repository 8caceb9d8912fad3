export type { Clock, TestClock } from './clock.js';
export { systemClock } from './system-clock.js';
export { createTestClock } from './test-clock.js';
