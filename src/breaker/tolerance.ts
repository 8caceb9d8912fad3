/**
 * How a closed breaker decides to open. Each kind is a small strategy behind this interface
 * (as cockatiel's `ConsecutiveBreaker` and `SamplingBreaker` are); the breaker machine does not
 * know which one counts. Tolerances are pure bookkeeping: time comes in as arguments.
 */
export interface Tolerance {
  /** Whether {@link Tolerance.success} does anything; when false the breaker skips reading the clock. */
  readonly countsSuccesses: boolean;
  /** A call succeeded at `now`. */
  success(now: number): void;
  /** A call failed at `now`; returns true when the breaker must open. */
  failure(now: number): boolean;
  /** Forgets everything (the breaker closed afresh). */
  clear(): void;
  /**
   * Takes over the history of the tolerance it replaces (a hot reload), as far as it is of the
   * same kind and its window allows: counted failures stay counted.
   */
  adopt(previous: Tolerance): void;
}

/**
 * jlouis/fuse's tolerance `{standard, MaxR, MaxT}`: failures are time-stamped; a failure at t is
 * dropped once `now - t >= windowMs`; the breaker opens when more than `failures` remain.
 *
 * Only the newest `failures + 1` failures inside the window can change an answer, so no more are
 * held. They are held as runs (a time and how many failures happened at it) in a ring that is
 * allocated at the first failure, small, and doubled only when the failures really held fill it:
 * memory follows the failures that actually happen inside one window (equal times sharing a
 * run), never the option, so `failures: 1e12` costs what `failures: 5` does until that many
 * failures really arrive within `windowMs`.
 */
export class CountTolerance implements Tolerance {
  /** Runs a new ring holds; the ring doubles from here, at most to `failures + 1`. */
  private static readonly initialRuns = 4;
  // Stryker disable next-line BooleanLiteral: success() of the count tolerance does nothing; the flag only spares the call
  readonly countsSuccesses = false;
  /** The runs, oldest first from `head`: `[time, count]` pairs; undefined until the first failure. */
  private runs: Float64Array | undefined;
  private head = 0;
  /** Runs held. */
  private length = 0;
  /** Failures held: the sum of the runs' counts, at most `failures + 1`. */
  private total = 0;

  constructor(
    private readonly failures: number,
    private readonly windowMs: number,
  ) {}

  success(): void {}

  failure(now: number): boolean {
    this.expire(now);
    this.record(now, 1);
    return this.total > this.failures;
  }

  /** Failures inside the window as of the last failure recorded (at most `failures + 1`). */
  get recorded(): number {
    return this.total;
  }

  /** The recorded failure times, oldest first. */
  failureTimes(): number[] {
    const times: number[] = [];
    const runs = this.runs;
    if (runs === undefined) return times;
    const capacity = runs.length >> 1;
    for (let index = 0; index < this.length; index += 1) {
      const slot = ((this.head + index) % capacity) * 2;
      for (let count = 0; count < runs[slot + 1]!; count += 1) times.push(runs[slot]!);
    }
    return times;
  }

  adopt(previous: Tolerance): void {
    const source = previous instanceof AnyTolerance ? previous.part(CountTolerance) : previous;
    // Stryker disable next-line ConditionalExpression: a source that is not a count tolerance has no runs, and this one is new and empty
    if (!(source instanceof CountTolerance)) return;
    this.clear();
    const runs = source.runs;
    if (runs === undefined) return;
    const capacity = runs.length >> 1;
    for (let index = 0; index < source.length; index += 1) {
      const slot = ((source.head + index) % capacity) * 2;
      this.record(runs[slot]!, runs[slot + 1]!);
    }
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
    this.total = 0;
    // A ring that grew for a burst is given back; a small one is kept for the next failure.
    if (this.runs !== undefined && this.runs.length > CountTolerance.initialRuns * 2) this.runs = undefined;
  }

  /** Drops the failures that left the window (`now - t >= windowMs`), oldest first. */
  private expire(now: number): void {
    const runs = this.runs;
    if (runs === undefined) return;
    const capacity = runs.length >> 1;
    while (this.length > 0 && now - runs[this.head * 2]! >= this.windowMs) {
      this.total -= runs[this.head * 2 + 1]!;
      this.head = (this.head + 1) % capacity;
      this.length -= 1;
    }
    if (this.length === 0) this.clear();
  }

  /** Records `count` failures at `time` without deciding anything, keeping the newest `failures + 1`. */
  private record(time: number, count: number): void {
    const limit = this.failures + 1;
    // Stryker disable next-line EqualityOperator: with count === limit, forgetting every run held leaves what clearing does
    if (count >= limit) {
      this.clear();
      count = limit;
    } else {
      this.forgetOldest(this.total + count - limit);
    }
    let runs = this.runs;
    if (runs !== undefined && this.length > 0) {
      const newest = ((this.head + this.length - 1) % (runs.length >> 1)) * 2;
      if (runs[newest] === time) {
        runs[newest + 1]! += count;
        this.total += count;
        return;
      }
    }
    if (runs === undefined || this.length === runs.length >> 1) runs = this.grow();
    const slot = ((this.head + this.length) % (runs.length >> 1)) * 2;
    runs[slot] = time;
    runs[slot + 1] = count;
    this.length += 1;
    this.total += count;
  }

  /** Forgets the `excess` oldest failures held (none when `excess <= 0`): beyond `failures + 1` they cannot change an answer. */
  private forgetOldest(excess: number): void {
    const runs = this.runs;
    if (runs === undefined) return;
    const capacity = runs.length >> 1;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: excess is positive only while runs are held, and forgetting nothing (excess 0) changes no run
    while (excess > 0 && this.length > 0) {
      const oldest = runs[this.head * 2 + 1]!;
      if (oldest > excess) {
        runs[this.head * 2 + 1] = oldest - excess;
        this.total -= excess;
        return;
      }
      excess -= oldest;
      this.total -= oldest;
      this.head = (this.head + 1) % capacity;
      this.length -= 1;
    }
  }

  /** A ring with room for one more run: the first one, or the old one's runs in a ring twice as large. */
  private grow(): Float64Array {
    const old = this.runs;
    const limit = this.failures + 1;
    if (old === undefined) {
      this.runs = new Float64Array(Math.min(CountTolerance.initialRuns, limit) * 2);
      this.head = 0;
      return this.runs;
    }
    const capacity = old.length >> 1;
    const runs = new Float64Array(Math.min(capacity * 2, limit) * 2);
    // Stryker disable next-line EqualityOperator: the slot past the runs held is copied but never read
    for (let index = 0; index < this.length; index += 1) {
      const from = ((this.head + index) % capacity) * 2;
      runs[index * 2] = old[from]!;
      runs[index * 2 + 1] = old[from + 1]!;
    }
    this.runs = runs;
    this.head = 0;
    return runs;
  }
}

/**
 * A rate tolerance as in opossum and resilience4j: calls and failures are counted in ten buckets
 * spanning `windowMs`; the breaker opens when, with at least `minimumCalls` calls in the window,
 * the failure ratio reaches `threshold`. Buckets make the window roll in steps of windowMs / 10.
 */
export class RateTolerance implements Tolerance {
  static readonly buckets = 10;
  readonly countsSuccesses = true;
  // Stryker disable next-line UnaryOperator: a bucket never used counts zero calls and zero failures, whichever epoch it claims
  private readonly epochs = new Float64Array(RateTolerance.buckets).fill(-1);
  private readonly calls = new Uint32Array(RateTolerance.buckets);
  private readonly failed = new Uint32Array(RateTolerance.buckets);
  private readonly bucketMs: number;

  constructor(
    private readonly threshold: number,
    private readonly minimumCalls: number,
    windowMs: number,
  ) {
    this.bucketMs = windowMs / RateTolerance.buckets;
  }

  success(now: number): void {
    this.calls[this.bucketAt(now)]! += 1;
  }

  failure(now: number): boolean {
    const bucket = this.bucketAt(now);
    this.calls[bucket]! += 1;
    this.failed[bucket]! += 1;
    const oldestEpoch = Math.floor(now / this.bucketMs) - RateTolerance.buckets + 1;
    let calls = 0;
    let failures = 0;
    for (let index = 0; index < RateTolerance.buckets; index += 1) {
      if (this.epochs[index]! < oldestEpoch) continue;
      calls += this.calls[index]!;
      failures += this.failed[index]!;
    }
    return calls >= this.minimumCalls && failures / calls >= this.threshold;
  }

  clear(): void {
    // Stryker disable next-line UnaryOperator: the buckets are zeroed with it, so whichever epoch they claim they count nothing
    this.epochs.fill(-1);
    this.calls.fill(0);
    this.failed.fill(0);
  }

  /** Keeps the counted calls when the window length is unchanged; a new window length starts afresh. */
  adopt(previous: Tolerance): void {
    const source = previous instanceof AnyTolerance ? previous.part(RateTolerance) : previous;
    if (!(source instanceof RateTolerance) || source.bucketMs !== this.bucketMs) return;
    this.epochs.set(source.epochs);
    this.calls.set(source.calls);
    this.failed.set(source.failed);
  }

  private bucketAt(now: number): number {
    const epoch = Math.floor(now / this.bucketMs);
    const index = epoch % RateTolerance.buckets;
    if (this.epochs[index] !== epoch) {
      this.epochs[index] = epoch;
      this.calls[index] = 0;
      this.failed[index] = 0;
    }
    return index;
  }
}

/** Opens when any of several tolerances says so. */
export class AnyTolerance implements Tolerance {
  readonly countsSuccesses: boolean;

  constructor(private readonly parts: readonly Tolerance[]) {
    this.countsSuccesses = parts.some((part) => part.countsSuccesses);
  }

  success(now: number): void {
    for (const part of this.parts) part.success(now);
  }

  failure(now: number): boolean {
    let trip = false;
    for (const part of this.parts) trip = part.failure(now) || trip;
    return trip;
  }

  clear(): void {
    for (const part of this.parts) part.clear();
  }

  adopt(previous: Tolerance): void {
    for (const part of this.parts) part.adopt(previous);
  }

  /** The part of the given kind, if any. */
  part<T extends Tolerance>(kind: new (...args: never[]) => T): T | undefined {
    return this.parts.find((part): part is T => part instanceof kind);
  }
}
