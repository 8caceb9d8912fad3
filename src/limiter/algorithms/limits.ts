/** The two numbers every algorithm is configured with. */
export interface Limits {
  /** Units admitted per window; for the buckets, their capacity. A positive integer. */
  readonly limit: number;
  /** The window's length; for the buckets, the time to refill or leak `limit` units. Positive. */
  readonly windowMs: number;
}
