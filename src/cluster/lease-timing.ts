/**
 * The timing of a lease, all derived from its `ttlMs`: the store keeps a holding `ttlMs` after the
 * claim that set it (on the store's clock), so the holder may count on it, on its own monotonic
 * clock, from the moment it sent that claim until `ttlMs − marginMs` later. The claim is
 * processed after it is sent, so the store's expiry can only be later than that; the margin
 * covers clock rate differences and the time the holder needs to act on its deadline.
 *
 * - renewals every `ttlMs / 3`: two renewals can fail before the holding is in danger;
 * - every store operation is given `ttlMs / 3` to answer: a renewal sent on time is answered
 *   (or given up) by `2 × ttlMs / 3`, leaving `ttlMs / 3 − marginMs` to stop the work;
 * - `marginMs = ttlMs / 10`, less than `ttlMs / 3` as the contract requires.
 */
export interface LeaseTiming {
  /** How long the store keeps a holding after each claim. */
  readonly ttlMs: number;
  /** A held lease sends its next renewal this long after the last claim was sent. */
  readonly renewEveryMs: number;
  /** How long a store operation may take before it counts as unanswered. */
  readonly answerWithinMs: number;
  /** The local deadline is this long before the earliest moment the store could let the holding go. */
  readonly marginMs: number;
}

/** The timing of a lease with this `ttlMs`. */
export function leaseTiming(ttlMs: number): LeaseTiming {
  return Object.freeze({ ttlMs, renewEveryMs: ttlMs / 3, answerWithinMs: ttlMs / 3, marginMs: ttlMs / 10 });
}

/** The local deadline of a holding granted by a claim sent at `sentAt`. */
export function localDeadline(sentAt: number, timing: LeaseTiming): number {
  return sentAt + timing.ttlMs - timing.marginMs;
}
