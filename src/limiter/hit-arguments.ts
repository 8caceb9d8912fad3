/**
 * The checks every `hit` makes on its arguments. Bad arguments are programming errors, so they
 * throw (`hitSync`) or reject (`hit`) rather than becoming a decision.
 */

/** Throws a `TypeError` unless `key` is a string (any string: empty, long, any Unicode). */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`limiter key must be a string, got ${typeof key}`);
}

/** Throws unless `cost` is a positive safe integer: a `TypeError` for a non-number, else a `RangeError`. */
export function checkCost(cost: unknown): asserts cost is number {
  if (typeof cost !== 'number') throw new TypeError(`limiter cost must be a number, got ${typeof cost}`);
  if (!Number.isSafeInteger(cost) || cost < 1) throw new RangeError(`limiter cost must be a positive integer, got ${cost}`);
}
