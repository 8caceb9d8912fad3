/** Why a hit was denied. */
export type DenialReason =
  /** The key has used up its limit for now; `retryAfterMs` says when this hit would be admitted. */
  | 'limit_exceeded'
  /** The hit costs more than the limit, so it can never be admitted (`retryAfterMs` is `Infinity`). */
  | 'cost_exceeds_limit';

/**
 * What a limiter answers for one hit. Admitted: `count` units are now counted for the key,
 * this hit's included, and `remaining` more can be admitted now (for the windows, `limit − count`;
 * for the buckets, whole units left, with `count + remaining = limit`). Denied: the hit changed
 * nothing, and the same hit made again after exactly `retryAfterMs` (with no other traffic on the
 * key) is admitted. Decisions are frozen.
 *
 * `reason` is an addition to the contract's denied shape.
 */
export type Decision =
  | {
      /** The hit was admitted. */
      allowed: true;
      /** Units now counted for the key, this hit's included. */
      count: number;
      /** Units that can still be admitted now. */
      remaining: number;
    }
  | {
      /** The hit was denied; it changed nothing. */
      allowed: false;
      /** When the same hit would be admitted, in ms from now; `Infinity` when it never can be. */
      retryAfterMs: number;
      /** Why it was denied. */
      reason: DenialReason;
    };

/** An admitted decision. */
export type Admitted = Extract<Decision, { allowed: true }>;

/** A denied decision. */
export type Denied = Extract<Decision, { allowed: false }>;

/** Admitted decisions with a count above this are built per hit instead of shared. */
const SHARED_COUNTS = 1024;

/**
 * The admitted decisions of one limit. An admitted decision is determined by its count, so the
 * decisions for counts up to 1,024 are built once and shared (frozen): the hot path returns one
 * without allocating.
 */
export class AdmittedDecisions {
  private readonly shared: Array<Admitted | undefined>;

  constructor(readonly limit: number) {
    // Pre-sized so that V8 keeps fast (holey) elements whatever order the counts come in.
    // Stryker disable next-line ArrayDeclaration: the size only keeps V8's elements kind; an unsized array holds the same decisions.
    this.shared = new Array<Admitted | undefined>(Math.min(limit, SHARED_COUNTS) + 1);
  }

  /** The decision admitting a hit that brings the key's count to `count` (`1 ≤ count ≤ limit`). */
  of(count: number): Admitted {
    return this.shared[count] ?? this.build(count);
  }

  private build(count: number): Admitted {
    const decision: Admitted = Object.freeze({ allowed: true as const, count, remaining: this.limit - count });
    if (count <= SHARED_COUNTS) this.shared[count] = decision;
    return decision;
  }
}

/** A decision admitting a hit with these figures (not shared; for the buckets, whose figures vary). */
export function admitted(count: number, remaining: number): Admitted {
  return Object.freeze({ allowed: true as const, count, remaining });
}

/** A hit denied because the key used up its limit; admitted if made again after `retryAfterMs`. */
export function limitExceeded(retryAfterMs: number): Denied {
  return Object.freeze({ allowed: false as const, retryAfterMs, reason: 'limit_exceeded' as const });
}

/** A hit denied because its cost is larger than the limit: never admitted. */
export function costExceedsLimit(): Denied {
  return Object.freeze({ allowed: false as const, retryAfterMs: Number.POSITIVE_INFINITY, reason: 'cost_exceeds_limit' as const });
}
