import { InvalidArgumentError } from '../core/index.js';

/**
 * The checks every `hit` and `reset` make on their arguments. Bad arguments are programming
 * errors, so they throw (`hitSync`) or reject (`hit`, `reset`) an {@link InvalidArgumentError}
 * rather than becoming a decision.
 */

/** Throws unless `key` is a string (any string: empty, long, any Unicode); `method` names the call (`hit`, `reset`). */
export function checkKey(key: unknown, method: 'hit' | 'reset' = 'hit'): asserts key is string {
  if (typeof key !== 'string') throw new InvalidArgumentError(`${method}.key`, key, 'a string');
}

/** Throws unless `cost` is a positive safe integer. */
export function checkCost(cost: unknown): asserts cost is number {
  if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 1) throw new InvalidArgumentError('hit.cost', cost, 'an integer >= 1');
}
