/**
 * A DDSketch (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable quantile sketch with
 * relative-error guarantees", VLDB 2019): values are counted in logarithmic buckets, bucket `i`
 * holding the values in (γ^(i-1), γ^i] with γ = (1 + α) / (1 - α), so that the bucket's
 * representative value 2γ^i / (γ + 1) is within relative error α of every value in it. A quantile
 * is then the representative of the bucket holding the value of that rank: within α of the exact
 * one. Memory grows with the logarithm of the range of values, not with their number; negative
 * values are mirrored into a second store and zeros counted apart.
 */
export class QuantileSketch {
  private readonly logGamma: number;
  private readonly gamma: number;
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private zeros = 0;
  /** Values counted. */
  count = 0;
  /** Smallest value counted (`+Infinity` when empty). */
  min = Number.POSITIVE_INFINITY;
  /** Largest value counted (`-Infinity` when empty). */
  max = Number.NEGATIVE_INFINITY;

  /**
   * @param relativeAccuracy α, in (0, 1): the largest relative error of a quantile.
   * @param maxBuckets The most buckets each store (positive, negative) keeps; past it the two
   *   buckets nearest zero are merged, which keeps the guarantee for every quantile but the lowest.
   */
  constructor(
    readonly relativeAccuracy: number,
    private readonly maxBuckets: number,
  ) {
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(this.gamma);
  }

  /** Counts one value (NaN is the caller's to skip). */
  add(value: number): void {
    this.count += 1;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    if (value > 0) this.addTo(this.positive, this.indexOf(value));
    else if (value < 0) this.addTo(this.negative, this.indexOf(-value));
    else this.zeros += 1;
  }

  /** Forgets every value. */
  clear(): void {
    this.positive.clear();
    this.negative.clear();
    this.zeros = 0;
    this.count = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  private indexOf(magnitude: number): number {
    return Math.ceil(Math.log(magnitude) / this.logGamma);
  }

  private addTo(store: Map<number, number>, index: number): void {
    store.set(index, (store.get(index) ?? 0) + 1);
    if (store.size > this.maxBuckets) collapseLowest(store);
  }

  /** The representative value of bucket `index`: within α of every value the bucket holds. */
  valueOf(index: number): number {
    return (2 * this.gamma ** index) / (this.gamma + 1);
  }

  /** Adds this sketch's buckets into `into` (which must share its accuracy). */
  mergeInto(into: SketchBuckets): void {
    for (const [index, count] of this.positive) into.positive.set(index, (into.positive.get(index) ?? 0) + count);
    for (const [index, count] of this.negative) into.negative.set(index, (into.negative.get(index) ?? 0) + count);
    into.zeros += this.zeros;
    into.count += this.count;
    into.min = Math.min(into.min, this.min);
    into.max = Math.max(into.max, this.max);
  }
}

/** The buckets of one or several merged sketches, read once per scrape. */
export interface SketchBuckets {
  positive: Map<number, number>;
  negative: Map<number, number>;
  zeros: number;
  count: number;
  min: number;
  max: number;
}

/** An empty {@link SketchBuckets} to merge sketches into. */
export function emptyBuckets(): SketchBuckets {
  return { positive: new Map(), negative: new Map(), zeros: 0, count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
}

function collapseLowest(store: Map<number, number>): void {
  let lowest = Number.POSITIVE_INFINITY;
  let next = Number.POSITIVE_INFINITY;
  for (const index of store.keys()) {
    // Stryker disable next-line EqualityOperator: keys are distinct, so index equals lowest only when both are +Infinity, and then either branch leaves both +Infinity
    if (index < lowest) {
      next = lowest;
      lowest = index;
    // Stryker disable next-line EqualityOperator: keys are distinct, so index equals next only when both are +Infinity, which changes nothing
    } else if (index < next) next = index;
  }
  store.set(next, store.get(next)! + store.get(lowest)!);
  store.delete(lowest);
}

/**
 * The values at quantiles `qs` (each in [0, 1]) of `buckets`, by nearest rank (the value of rank
 * ⌈q·n⌉), each within the sketch's relative accuracy of the exact one and clamped to [min, max];
 * the lowest and highest ranks are the exact min and max.
 * Zero for an empty sketch.
 */
export function quantilesOf(buckets: SketchBuckets, qs: readonly number[], valueOf: (index: number) => number): number[] {
  const { count } = buckets;
  if (count === 0) return qs.map(() => 0);
  // Ascending value order: negatives from the largest magnitude down, zeros, positives up.
  const ordered: [value: number, count: number][] = [];
  for (const index of [...buckets.negative.keys()].sort((a, b) => b - a)) ordered.push([-valueOf(index), buckets.negative.get(index)!]);
  ordered.push([0, buckets.zeros]);
  for (const index of [...buckets.positive.keys()].sort((a, b) => a - b)) ordered.push([valueOf(index), buckets.positive.get(index)!]);
  return qs.map((q) => {
    const rank = Math.max(0, Math.ceil(q * count) - 1);
    // The lowest and highest ranks are known exactly.
    if (rank === 0) return buckets.min;
    if (rank === count - 1) return buckets.max;
    let seen = 0;
    for (const [value, bucketCount] of ordered) {
      seen += bucketCount;
      if (seen > rank) return Math.min(buckets.max, Math.max(buckets.min, value));
    }
    return buckets.max;
  });
}
