import { limitExceeded, type Denied } from '../decision.js';
import { delayUntil, nextUp } from './float-time.js';
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
 * When `window` ends: the first time that `windowOf` puts in a later window. That is
 * `(window + 1) · windowMs`, stepped past its rounding when the division would still put it in
 * `window`.
 */
export function fixedWindowEnd(window: number, limits: Limits): number {
  let end = (window + 1) * limits.windowMs;
  while (windowOf(end, limits.windowMs) <= window) end = nextUp(end);
  return end;
}

/** The denial of a hit in `window` at `now`: retry when the window ends. */
export function denyFixedWindow(window: number, now: number, limits: Limits): Denied {
  return limitExceeded(delayUntil(now, fixedWindowEnd(window, limits)));
}
