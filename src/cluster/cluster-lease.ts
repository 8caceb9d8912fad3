import type { ReleaseNotice } from './release-feed.js';

/** Why a held lease was lost (see {@link ClusterLease.onLost}). */
export type LeaseLossReason = 'expired' | 'taken' | 'unavailable';

/** What a lease tells its `onLost` listeners besides the reason. */
export interface LeaseLoss {
  /** Why it was lost: `'expired'`, `'taken'` (the store names another owner) or `'unavailable'`. */
  readonly reason: LeaseLossReason;
  /** The fence of the holding that was lost. */
  readonly fence: number;
  /**
   * Milliseconds, from the loss, until the local deadline of the lost holding: the most time the
   * work fenced by it may take to stop before another owner could hold the lease. 0 for
   * `'expired'` and `'taken'`; for `'unavailable'` (a renewal failed) what was left of the holding.
   */
  readonly graceMs: number;
}

/**
 * A lease on a name shared by several processes: at most one owner holds it at a time, for
 * `ttlMs` from its last renewal as the store's clock counts (PostgreSQL `now()`, Redis `PX`). A
 * held lease renews itself every `ttlMs / 3`; each process knows, on its own monotonic clock, a
 * local deadline a margin before the earliest moment the store could let the lease go, and stops
 * believing it holds the lease at that deadline even when its event loop was blocked through it.
 *
 * Every takeover gets a larger `fence`: hand it to the work and have the work's writes carry it,
 * so that a store can refuse a write from a holder that has lost the lease without knowing it.
 *
 * Owners are compared by the `owner` string, not by lease object: two lease objects with the
 * same owner are the same holder.
 *
 * @example
 * ```ts
 * const lease = createRedisLease({ name: 'billing-run', redis });
 * if (await lease.acquire()) await runBilling({ fence: lease.fence! });
 * ```
 */
export interface ClusterLease {
  /** The name shared by every process competing for this lease. */
  readonly name: string;
  /** This holder's id (default: a random id per lease object). */
  readonly owner: string;
  /** How long the store keeps the lease after each renewal, in ms. */
  readonly ttlMs?: number;
  /**
   * Resolves true when this owner holds the lease now (at once, without asking the store, when it
   * already holds it; true again for another object with the same owner, keeping the fence),
   * false when another owner holds it, or when `release()` was called before the store granted
   * it. Rejects with `LeaseUnavailableError` when the store cannot say within `ttlMs / 3`.
   */
  acquire(): Promise<boolean>;
  /**
   * Gives the lease up at once: `isHeld()` is false from the call on, renewals stop, and the
   * store is told (after any operation in flight), so another owner can take it immediately.
   * Rejects with `LeaseUnavailableError` when the store did not confirm; it then expires there.
   */
  release(): Promise<void>;
  /** True while held and the local deadline (the store's expiry minus a margin) has not passed. */
  isHeld(): boolean;
  /** The fence of the current holding, fixed while held; `undefined` when not held. */
  readonly fence: number | undefined;
  /**
   * Calls `listener` once per loss of a holding (never for `release()`): `'expired'` when the
   * local deadline passed (or the store no longer had the holding), `'taken'` when the store names
   * another owner, `'unavailable'` when a renewal failed or was not answered in time. Returns the
   * unsubscribe function.
   */
  onLost(listener: (reason: LeaseLossReason, loss: LeaseLoss) => void): () => void;
  /**
   * Optional (the store leases have it): calls `listener` when the store announces that a holding
   * of this lease's name was released (`'released'`, by any owner), and when the lease starts to
   * listen, or listens again after its connection dropped (`'listening'`: a release may have gone
   * unheard). A hint to call `acquire()` now rather than at the next poll; never a promise that
   * it succeeds, and never called when the lease has nothing to listen on. The lease listens only
   * while it has listeners. Returns the unsubscribe function.
   */
  onReleased?(listener: (notice: ReleaseNotice) => void): () => void;
}
