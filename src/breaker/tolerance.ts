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
 * Only the newest `failures + 1` stamps matter, so they live in a fixed ring buffer.
 */
export class CountTolerance implements Tolerance {
  readonly countsSuccesses = false;
  private readonly stamps: Float64Array;
  private head = 0;
  private length = 0;

  constructor(
    private readonly failures: number,
    private readonly windowMs: number,
  ) {
    this.stamps = new Float64Array(failures + 1);
  }

  success(): void {}

  failure(now: number): boolean {
    const capacity = this.stamps.length;
    while (this.length > 0 && now - this.stamps[this.head]! >= this.windowMs) {
      this.head = (this.head + 1) % capacity;
      this.length -= 1;
    }
    if (this.length === capacity) {
      this.head = (this.head + 1) % capacity;
      this.length -= 1;
    }
    this.stamps[(this.head + this.length) % capacity] = now;
    this.length += 1;
    return this.length > this.failures;
  }

  /** Failures inside the window as of the last failure recorded. */
  get recorded(): number {
    return this.length;
  }

  /** The recorded failure times, oldest first. */
  failureTimes(): number[] {
    const times: number[] = [];
    for (let index = 0; index < this.length; index += 1) times.push(this.stamps[(this.head + index) % this.stamps.length]!);
    return times;
  }

  adopt(previous: Tolerance): void {
    const source = previous instanceof AnyTolerance ? previous.part(CountTolerance) : previous;
    if (!(source instanceof CountTolerance)) return;
    this.clear();
    for (const time of source.failureTimes()) this.record(time);
  }

  /** Records a failure time without deciding anything (used when taking over a history). */
  private record(time: number): void {
    const capacity = this.stamps.length;
    if (this.length === capacity) {
      this.head = (this.head + 1) % capacity;
      this.length -= 1;
    }
    this.stamps[(this.head + this.length) % capacity] = time;
    this.length += 1;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
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
