import { ConfigError } from '../core/index.js';
import { record } from '../core/validate.js';

/**
 * Restart with backoff, the pure rules: how long the n-th consecutive restart of a child waits,
 * and when a child has stayed up long enough to start the count again. No clock or timer here;
 * the engine wires these to the clock (restart-waits.ts).
 */

/** A `backoff` option with every default applied, frozen. */
export interface ResolvedBackoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly randomFactor: number;
  readonly resetAfterMs: number;
}

function finiteAtLeast(option: string, value: unknown, min: number, expectation: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new ConfigError(option, value, expectation);
  return value;
}

/**
 * Validates a `backoff` option at `option` (e.g. `children[0].backoff`); `undefined` when absent.
 * Throws {@link ConfigError} naming the field: `minMs` must be finite and > 0, `maxMs` finite and
 * >= `minMs`, `randomFactor` in [0, 1] (default 0.2), `resetAfterMs` finite and >= 0 (default
 * `(minMs + maxMs) / 2`).
 */
export function resolveBackoff(option: string, value: unknown): ResolvedBackoff | undefined {
  if (value === undefined) return undefined;
  const fields = record(option, value);
  const minMs = fields.minMs;
  if (typeof minMs !== 'number' || !Number.isFinite(minMs) || minMs <= 0) {
    throw new ConfigError(`${option}.minMs`, minMs, 'a finite number > 0');
  }
  const maxMs = finiteAtLeast(`${option}.maxMs`, fields.maxMs, minMs, `a finite number >= minMs (${minMs})`);
  const randomFactor =
    fields.randomFactor === undefined ? 0.2 : finiteAtLeast(`${option}.randomFactor`, fields.randomFactor, 0, 'a number in [0, 1]');
  if (randomFactor > 1) throw new ConfigError(`${option}.randomFactor`, randomFactor, 'a number in [0, 1]');
  const resetAfterMs =
    fields.resetAfterMs === undefined
      ? (minMs + maxMs) / 2
      : finiteAtLeast(`${option}.resetAfterMs`, fields.resetAfterMs, 0, 'a finite number >= 0');
  return Object.freeze({ minMs, maxMs, randomFactor, resetAfterMs });
}

/** Whether two resolved backoffs wait alike (either may be absent). */
export function sameBackoff(a: ResolvedBackoff | undefined, b: ResolvedBackoff | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.minMs === b.minMs && a.maxMs === b.maxMs && a.randomFactor === b.randomFactor && a.resetAfterMs === b.resetAfterMs;
}

/**
 * How long the `attempt`-th consecutive restart of a child waits (0 for the first):
 * `min(maxMs, minMs · 2^attempt) × (1 + u · randomFactor)`, `u = random()`. This is Akka's
 * formula: the jitter comes after the cap, so children capped at `maxMs` still spread out. An
 * exponent that overflows falls back to `maxMs`. A `random` that leaves [0, 1) is clamped to
 * [0, 1] (NaN counts as 0), so a bad source can lengthen a delay by at most `randomFactor`.
 *
 * @example
 * ```ts
 * backoffDelay(3, { minMs: 100, maxMs: 1000, randomFactor: 0, resetAfterMs: 550 }, Math.random); // 800
 * ```
 */
export function backoffDelay(attempt: number, backoff: ResolvedBackoff, random: () => number): number {
  const exponential = backoff.minMs * 2 ** attempt;
  // NaN and Infinity (an overflowing exponent) fail the comparison: the cap applies.
  // Stryker disable next-line EqualityOperator: when exponential equals maxMs both branches give the same number
  const capped = exponential < backoff.maxMs ? exponential : backoff.maxMs;
  if (backoff.randomFactor === 0) return capped;
  const drawn = random();
  // Stryker disable next-line EqualityOperator: at drawn = 0 (or -0) and drawn = 1 both branches give the same u (0 and 1), so the delay is the same
  const u = drawn > 0 ? (drawn < 1 ? drawn : 1) : 0;
  return capped * (1 + u * backoff.randomFactor);
}

/** Whether a child that stayed up `upForMs` starts its backoff again at `minMs` on its next exit. */
export function upLongEnoughToReset(upForMs: number, backoff: ResolvedBackoff): boolean {
  return upForMs >= backoff.resetAfterMs;
}
