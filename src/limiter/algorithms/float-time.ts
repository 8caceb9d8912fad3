/**
 * Exact time arithmetic in doubles. `retryAfterMs` promises that the same hit made again after
 * exactly that delay is admitted, so the delay must survive the rounding of `now + delay` and of
 * the algorithm's own formulas. These helpers step by one unit in the last place (ulp) instead of
 * hoping the rounding goes the right way. The Redis scripts (../redis/scripts.ts) carry the same
 * functions in Lua, so both backends round identically.
 */

const bits = new DataView(new ArrayBuffer(8));

/** The smallest double greater than `x` (`x` finite; `nextUp(0)` is the smallest subnormal). */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  bits.setFloat64(0, x);
  let high = bits.getUint32(0);
  let low = bits.getUint32(4);
  if (x > 0) {
    low = (low + 1) >>> 0;
    if (low === 0) high += 1;
  } else {
    if (low === 0) high -= 1;
    low = (low - 1) >>> 0;
  }
  bits.setUint32(0, high);
  bits.setUint32(4, low);
  return bits.getFloat64(0);
}

/** The largest double less than `x` (`x` finite). */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

/**
 * The delay after which a clock reading `now` reads at least `time`: the smallest `delay ≥ 0`
 * (to one ulp) with `now + delay ≥ time` as doubles compute it, which plain `time − now` is not
 * always.
 */
export function delayUntil(now: number, time: number): number {
  if (!(time > now)) return 0;
  let delay = time - now;
  while (now + delay < time) delay = nextUp(delay);
  return delay;
}

/**
 * The next delay to try after `delay` when a bucket's formula fell short: a whole millisecond
 * more, or, where doubles near `now + delay` are further apart than a millisecond (clock readings
 * from 2^53 ms on), the least delay that moves the reading on by one double. Either way the
 * reading `now + delay` grows at every step, so a search that steps with it ends.
 */
export function laterDelay(now: number, delay: number): number {
  const later = delay + 1;
  return now + later > now + delay ? later : delayUntil(now, nextUp(now + delay));
}
