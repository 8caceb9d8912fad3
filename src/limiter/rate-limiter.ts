import type { Decision } from './decision.js';
import type { LimiterReconfiguration } from './options.js';

/**
 * What every limiter does: decide hits per key. Keys are arbitrary strings (empty, 1 MB long, any
 * Unicode); `cost` is a positive integer, default 1. A bad key or cost rejects with an
 * `InvalidArgumentError`; a hit costing more than the limit is denied with reason
 * `'cost_exceeds_limit'`. Type code against it to take either backend (memory or Redis).
 */
export interface RateLimiter {
  /** Names it in telemetry and errors (`options.name`); the Redis backend also keys its data by it. */
  readonly name: string;
  /** Decides one hit; a denied hit changes nothing. */
  hit(key: string, cost?: number): Promise<Decision>;
  /** Forgets the key: its next hit is decided as a fresh key's. */
  reset(key: string): Promise<void>;
}

/**
 * A limiter whose `limit`, `windowMs` and `telemetryKeys` can change live (a hot reload), keeping
 * what it counted: logs and buckets carry over and are judged by the new numbers from the next hit
 * on. A token bucket keeps its tokens (capped at a lowered capacity; a raised one fills by refill),
 * a leaky bucket its level (above a lowered capacity it waits to leak down). A fixed window keeps its
 * counts when only `limit` changes; a new `windowMs` redefines the windows, so counting starts
 * afresh in the window the new length puts `now` in. An invalid patch throws `ConfigError` and
 * changes nothing.
 */
export interface Reconfigurable {
  /** Applies `patch` from the next hit on (see above); throws `ConfigError` on a bad patch and changes nothing. */
  reconfigure(patch: LimiterReconfiguration): void;
}

/** The embedded limiter: answers synchronously, holds its keys in bounded memory. */
export interface MemoryRateLimiter extends RateLimiter, Reconfigurable {
  /**
   * Decides one hit synchronously; throws `InvalidArgumentError` on a bad key or cost.
   * The hot path: see `bench/limiter.bench.ts`.
   */
  hitSync(key: string, cost?: number): Decision;
  /** Keys held in memory now (keys equivalent to fresh ones are dropped as the sweeper reaches them). */
  readonly size: number;
  /**
   * Cancels the limiter's timers (the fixed window's end, the sweeper), e.g. when its supervisor
   * stops it. The counts are kept, and the next hit re-arms the timers, so a stopped limiter still
   * answers and stays bounded.
   */
  stop(): void;
}

/** The Redis-backed limiter: any {@link RateLimiter}, reconfigurable live. */
export interface RedisRateLimiter extends RateLimiter, Reconfigurable {}
