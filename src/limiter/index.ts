export type { Algorithm, LimiterOptions, MemoryLimiterOptions, LimiterReconfiguration } from './options.js';
export type { Decision, DenialReason } from './decision.js';
export type { RateLimiter, MemoryRateLimiter, RedisRateLimiter, Reconfigurable } from './rate-limiter.js';
export { createRateLimiter } from './memory/create-rate-limiter.js';
export { createRedisRateLimiter } from './redis/redis-limiter.js';
export type { RedisLimiterOptions } from './redis/redis-options.js';
export type { RedisLike } from './redis/redis-like.js';
export { limiterChild, type LimiterChildSpec } from './limiter-child.js';
export { LimiterUnavailableError, isLimiterUnavailableError } from './errors.js';
