import type { BreakerStateValue } from './breaker-machine.js';

/**
 * Why a breaker refuses every call on behalf of its cluster: a breaker fleet
 * (`createBreakerFleet`) isolated every breaker of this name across instances. Carried by the
 * `BreakerOpenError` of each refused call (`error.isolation`).
 */
export interface BreakerIsolation {
  /** The instance that isolated it (the fleet's `instance`). */
  readonly by: string;
  /** What the one who isolated it gave as the reason, if anything. */
  readonly reason: string | undefined;
}

/**
 * What a breaker fleet needs of a local breaker, and nothing else may use: the isolation overlay
 * and a watch on the state `state()` reports. Not public API (see `internal.ts`).
 *
 * The isolation lies over the machine, which it leaves alone: while isolated the breaker refuses
 * every call (`BreakerOpenError` with `state: 'disabled'`, `retryAfterMs` Infinity and the
 * isolation) and `state()` reports `'disabled'`, the contract's state for "refuses every call
 * until someone lifts it"; underneath, the machine keeps its own state (its reset timer runs, a
 * hand `disable()` / `enable()` moves it), and lifting the isolation shows that state again.
 */
export interface BreakerFleetHooks {
  /** Isolates the breaker, replaces its isolation, or (with `undefined`) lifts it. */
  isolate(isolation: BreakerIsolation | undefined): void;
  /** The isolation in force, if any. */
  isolation(): BreakerIsolation | undefined;
  /** Calls `listener` after every change of what `state()` reports; returns the unsubscribe function. */
  watch(listener: (state: BreakerStateValue) => void): () => void;
}

/** The property under which a breaker of this copy of the package keeps its fleet hooks. */
export const breakerFleetHooksKey: unique symbol = Symbol('overseer.breaker.fleetHooks');

/** The fleet hooks of a breaker made by `createBreaker` or `breakerChild`, or `undefined` for anything else. */
export function breakerFleetHooksOf(value: unknown): BreakerFleetHooks | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const hooks = (value as { [breakerFleetHooksKey]?: unknown })[breakerFleetHooksKey];
  return typeof hooks === 'object' && hooks !== null ? (hooks as BreakerFleetHooks) : undefined;
}
