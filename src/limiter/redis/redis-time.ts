/**
 * What the limiter knows of Redis's clock, to give each hit a deadline Redis can check: the Redis
 * time the last reply carried (rounded down to the millisecond), and the limiter's clock when that
 * reply arrived. Redis read its time before it answered, so `redisAt − localAt` is at most the
 * true offset between the two clocks; a deadline built from it falls no later, in real time, than
 * meant (earlier by the reply's trip). Each reply that tells the time replaces the pair, so a
 * clock that steps or drifts is followed from the next such reply on.
 *
 * Pure: no timers, no I/O.
 */
export class RedisClockEstimate {
  private redisAt = Number.NaN;
  private localAt = 0;

  /** A reply carrying Redis time `redisMs` arrived when the limiter's clock read `localMs`. */
  observe(redisMs: number, localMs: number): void {
    this.redisAt = redisMs;
    this.localAt = localMs;
  }

  /** Whether nothing is known, or what is known came from a reply that arrived over `maxAgeMs` before `at`. */
  olderThan(at: number, maxAgeMs: number): boolean {
    return Number.isNaN(this.redisAt) || !(at - this.localAt <= maxAgeMs);
  }

  /**
   * The Redis time by which a hit that started when the limiter's clock read `startedAt` must run,
   * `budgetMs` after it started; 0, a deadline long passed, while nothing is known, so that the
   * first hit only learns Redis's time (the script refuses it and says its time).
   */
  deadline(startedAt: number, budgetMs: number): number {
    if (Number.isNaN(this.redisAt)) return 0;
    // (startedAt − localAt) first: both are readings of one clock, close together, so their
    // difference is exact even where that clock's readings are large.
    return this.redisAt + (startedAt - this.localAt) + budgetMs;
  }
}
