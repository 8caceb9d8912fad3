/**
 * What other concepts of the package share with the breaker and is not public API: the hooks a
 * breaker fleet (src/cluster) isolates and watches local breakers through. Not exported from the
 * package root nor from any subpath.
 */
export { breakerFleetHooksOf, type BreakerFleetHooks } from './isolation.js';
