/**
 * The store's answer to a claim: this owner holds the lease (with the fence of its holding), or
 * another owner does (named when the store could say who).
 */
export type Claim = { readonly held: true; readonly fence: number } | { readonly held: false; readonly holder: string | undefined };

/**
 * Where a lease's state lives (one name, one TTL): the two operations a lease object sends, one
 * at a time. Each is one atomic step on the store, timed by the store's own clock. An adapter
 * only translates; time-outs, ordering and the local deadline are the lease object's.
 */
export interface LeaseStore {
  /**
   * Takes the lease for `owner` when nobody holds it or its holding has expired (a takeover: a
   * fence larger than any before), or renews it when `owner` holds it (same fence); either way
   * the holding then lasts `ttlMs` from now on the store's clock. Otherwise changes nothing.
   */
  claim(owner: string): Promise<Claim>;
  /** Ends the holding `fence` of `owner` at once; changes nothing when the store has another. */
  release(owner: string, fence: number): Promise<void>;
}

/** Reads a fence from a store reply (a number, or a decimal string for a PostgreSQL bigint). */
export function fenceOf(value: unknown): number | undefined {
  const fence = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  return typeof fence === 'number' && Number.isSafeInteger(fence) && fence > 0 ? fence : undefined;
}
