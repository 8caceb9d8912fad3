/**
 * The part of a Redis client the Redis limiter uses: ioredis's `Redis` and `Cluster` fit as they
 * are. Replies arrive as ioredis gives them (integers as numbers, bulk strings as strings).
 *
 * For node-redis (v4+), adapt it in three lines:
 * ```ts
 * const redis: RedisLike = {
 *   evalsha: (sha, numKeys, ...args) => client.evalSha(sha, { keys: args.slice(0, numKeys), arguments: args.slice(numKeys) }),
 *   eval: (script, numKeys, ...args) => client.eval(script, { keys: args.slice(0, numKeys), arguments: args.slice(numKeys) }),
 *   del: (...keys) => client.del(keys),
 * };
 * ```
 */
export interface RedisLike {
  /** Runs a loaded script by its SHA-1; rejects with a `NOSCRIPT` error when the server lacks it. */
  evalsha(sha1: string, numKeys: number, ...args: string[]): Promise<unknown>;
  /** Runs (and loads) a script. */
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  /** Deletes keys. */
  del(...keys: string[]): Promise<unknown>;
}
