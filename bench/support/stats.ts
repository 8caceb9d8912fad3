/** Small statistics helpers shared by every suite. Inputs are never mutated. */

/** The median of `values` (mean of the two middle values for an even count). Throws on an empty list. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The arithmetic mean of `values`. Throws on an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean of an empty list');
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** The `q`-quantile (0..1) of `values`, linearly interpolated between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty list');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be within [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower]!;
  return low + (sorted[upper]! - low) * (position - lower);
}

/** `value` rounded to `digits` significant digits (integers of at least that many digits stay integers). */
export function roundSignificant(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  if (decimals === 0) return Math.round(value);
  return Number(value.toFixed(Math.min(decimals, 20)));
}

/**
 * How a measured figure is written in a BENCH line: whole numbers from 100 up (nanoseconds,
 * bytes), three significant digits below that.
 */
export function roundFigure(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : roundSignificant(value, 3);
}

/** A ratio as written in a BENCH line: three significant digits. */
export function roundRatio(value: number): number {
  return roundSignificant(value, 3);
}
