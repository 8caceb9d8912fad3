import { limitExceeded, type Denied } from '../decision.js';
import { delayUntil, nextDown, nextUp } from './float-time.js';
import type { Limits } from './limits.js';

/**
 * Fixed window, as Hammer counts it: time is cut into aligned windows `floor(now / windowMs)`,
 * each key may spend `limit` units per window, and a new window starts every key at zero.
 * At most `limit` units are admitted per aligned window (up to `2 · limit` across a boundary).
 *
 * The per-key state is just the count of the key's current window: a hit of `cost` fits when
 * `count + cost ≤ limit`, and then `count + cost` is stored and is the decision's `count`. These
 * functions do the window arithmetic; the backends keep the counts.
 */

/** The index of the window `now` falls in. */
export function windowOf(now: number, windowMs: number): number {
  return Math.floor(now / windowMs);
}

/**
 * When `window` ends: the first instant that `windowOf` puts in a later window, so that
 * `windowOf(t) === window` exactly when `fixedWindowEnd(window − 1) ≤ t < fixedWindowEnd(window)`.
 * That is `(window + 1) · windowMs` moved by the rounding of the product and of the division: a
 * few doubles down while the instant before it is already in a later window, then up while it is
 * still in `window` (a few, since `windowMs ≥ 1` keeps the quotient a normal double). One
 * exception: window −1 ends at 0, although the division also rounds the subnormal instants just
 * below 0 (above about −1e-314) into window 0; walking down to them would take billions of steps,
 * and no clock reads them. The Redis script computes it the same way.
 */
export function fixedWindowEnd(window: number, limits: Limits): number {
  const { windowMs } = limits;
  let end = (window + 1) * windowMs;
  if (end === 0) return 0;
  for (let before = nextDown(end); windowOf(before, windowMs) > window; before = nextDown(end)) end = before;
  while (windowOf(end, windowMs) <= window) end = nextUp(end);
  return end;
}

/** The denial of a hit in `window` at `now`: retry when the window ends. */
export function denyFixedWindow(window: number, now: number, limits: Limits): Denied {
  return limitExceeded(delayUntil(now, fixedWindowEnd(window, limits)));
}
