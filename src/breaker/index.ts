export { createBreaker, type Breaker, type BreakerState, type BreakerStats, type BreakerReconfiguration, type CallOptions } from './breaker.js';
export { breakerChild, type BreakerChildSpec } from './breaker-child.js';
export { breakerMachine, type BreakerContext, type BreakerEvent, type BreakerMachineInput } from './breaker-machine.js';
export { BreakerArgumentError, BreakerOpenError, BreakerTimeoutError, isBreakerArgumentError, isBreakerOpenError, isBreakerTimeoutError } from './errors.js';
export type { BreakerOptions } from './options.js';
export type { BreakerIsolation } from './isolation.js';
