/** The buckets a window is cut into: counts leave the window one bucket (a twelfth of it) at a time. */
const BUCKETS = 12;

/** What one limiter's `limiter.hit` telemetry said within the window. */
export interface RecentHits {
  hits: number;
  denied: number;
  /** The highest `count` an event carried within the window. */
  peakCount: number;
}

interface Bucket {
  /** Which bucket of time (`floor(now / bucketMs)`) it counts; -Infinity when empty. */
  slot: number;
  hits: number;
  denied: number;
  peakCount: number;
}

/**
 * Hits and denials of one limiter over a sliding window, in fixed memory: a ring of
 * {@link BUCKETS} buckets, each a twelfth of the window; a bucket is reused once its time has
 * left the window. A read covers the current bucket and the eleven before it: every hit of the
 * last `windowMs − windowMs / 12`, never one older than `windowMs`.
 */
export class RecentCounts {
  private readonly buckets: Bucket[] = Array.from({ length: BUCKETS }, () => ({ slot: Number.NEGATIVE_INFINITY, hits: 0, denied: 0, peakCount: 0 }));
  private readonly bucketMs: number;
  /** Denials since counting began. */
  deniedTotal = 0;
  /** Clock time of the last denial. */
  lastDeniedAt: number | undefined;

  constructor(readonly windowMs: number) {
    this.bucketMs = windowMs / BUCKETS;
  }

  /** One hit at `now`: admitted or denied, with the count its event carried. */
  record(now: number, allowed: boolean, count: number): void {
    const slot = Math.floor(now / this.bucketMs);
    const bucket = this.buckets[((slot % BUCKETS) + BUCKETS) % BUCKETS]!;
    if (bucket.slot !== slot) {
      bucket.slot = slot;
      bucket.hits = 0;
      bucket.denied = 0;
      bucket.peakCount = 0;
    }
    bucket.hits += 1;
    if (!allowed) {
      bucket.denied += 1;
      this.deniedTotal += 1;
      this.lastDeniedAt = now;
    }
    if (Number.isFinite(count) && count > bucket.peakCount) bucket.peakCount = count;
  }

  /** The sums over the window ending at `now`. */
  read(now: number): RecentHits {
    const current = Math.floor(now / this.bucketMs);
    const result: RecentHits = { hits: 0, denied: 0, peakCount: 0 };
    for (const bucket of this.buckets) {
      if (bucket.slot > current || bucket.slot <= current - BUCKETS) continue;
      result.hits += bucket.hits;
      result.denied += bucket.denied;
      if (bucket.peakCount > result.peakCount) result.peakCount = bucket.peakCount;
    }
    return result;
  }
}
