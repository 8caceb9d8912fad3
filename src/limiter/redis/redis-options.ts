import type { Clock } from '../../clock/index.js';
import { systemClock } from '../../clock/index.js';
import { ConfigError } from '../../core/index.js';
import { nonEmptyString, record } from '../../core/validate.js';
import { positive, resolveLimiterOptions, type LimiterOptions, type ResolvedLimiterOptions } from '../options.js';
import type { MemoryRateLimiter } from '../rate-limiter.js';
import { MAX_TIMER_MS } from '../timer-delay.js';
import { isUsablePrefix, isWellFormed } from './keyspace.js';
import type { RedisLike } from './redis-like.js';

/** Options of {@link createRedisRateLimiter}. */
export interface RedisLimiterOptions extends LimiterOptions {
  /** The client (ioredis, or anything shaped as {@link RedisLike}). Required. */
  redis: RedisLike;
  /**
   * Starts every key; must not contain `:`, and may hold braces only as a Redis Cluster hash tag
   * (`'{limits}'`, which puts every key in one slot). Default `'overseer'`.
   */
  prefix?: string;
  /**
   * Answers instead of Redis when Redis fails or is too slow (as rate-limiter-flexible's
   * `insuranceLimiter`); give it a limit suited to one instance (e.g. the global limit divided by
   * the number of instances). Default none: such hits reject with `LimiterUnavailableError`.
   */
  insurance?: MemoryRateLimiter;
  /**
   * A hit Redis has not answered within this many ms settles without it. Redis must run a hit
   * within 3/4 of it (by Redis's clock), or the hit counts nothing there. Default 1000; at most 2^31 − 1.
   */
  timeoutMs?: number;
}

/** Redis limiter options after validation and defaults, frozen. */
export interface ResolvedRedisLimiterOptions extends ResolvedLimiterOptions {
  readonly redis: RedisLike;
  readonly prefix: string;
  readonly insurance: MemoryRateLimiter | undefined;
  readonly timeoutMs: number;
  /** Runs the timeouts: the given clock, else `systemClock`. */
  readonly timers: Clock;
}

function timeout(value: unknown): number {
  const ms = positive('timeoutMs', value);
  if (ms > MAX_TIMER_MS) throw new ConfigError('timeoutMs', value, `a finite number in (0, ${MAX_TIMER_MS}]`);
  return ms;
}

/** Validates the Redis limiter's options; throws {@link ConfigError} naming the first bad one. */
export function resolveRedisLimiterOptions(options: unknown): ResolvedRedisLimiterOptions {
  const shared = resolveLimiterOptions(options);
  if (!isWellFormed(shared.name)) throw new ConfigError('name', shared.name, 'well-formed Unicode (no lone surrogate)');
  const fields = options as Record<string, unknown>;
  const redis = record('redis', fields.redis) as unknown as RedisLike;
  for (const method of ['evalsha', 'eval', 'del'] as const) {
    if (typeof redis[method] !== 'function') throw new ConfigError(`redis.${method}`, redis[method], 'a function (an ioredis client or a RedisLike)');
  }
  const prefix = fields.prefix === undefined ? 'overseer' : nonEmptyString('prefix', fields.prefix);
  if (!isUsablePrefix(prefix)) throw new ConfigError('prefix', prefix, "a string without ':', with braces only as a Redis Cluster hash tag ('{…}')");
  const insurance = fields.insurance;
  if (insurance !== undefined && typeof (insurance as Partial<MemoryRateLimiter> | null)?.hitSync !== 'function') {
    throw new ConfigError('insurance', insurance, 'a memory limiter (createRateLimiter)');
  }
  return Object.freeze({
    ...shared,
    redis,
    prefix,
    insurance: insurance as MemoryRateLimiter | undefined,
    timeoutMs: fields.timeoutMs === undefined ? 1000 : timeout(fields.timeoutMs),
    timers: shared.clock ?? systemClock,
  });
}
