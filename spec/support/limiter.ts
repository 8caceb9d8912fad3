import {
  createRateLimiter,
  createRedisRateLimiter,
  createTelemetry,
  createTestClock,
  type Algorithm,
  type Decision,
  type LimiterOptions,
  type MemoryLimiterOptions,
  type RateLimiter,
  type Telemetry,
  type TelemetryEvent,
  type TestClock,
} from '../../src/index.js';
import type { Redis } from 'ioredis';

export const ALGORITHMS: readonly Algorithm[] = ['fixed_window', 'sliding_window', 'token_bucket', 'leaky_bucket'];

/** The options a spec gives; the backend adds its own (a Redis client, a prefix). */
export type SpecLimiterOptions = Omit<LimiterOptions, 'clock'> & { clock: TestClock };

/** A way to build limiters, so that one suite runs against every backend (STYLE §15). */
export interface LimiterBackend {
  readonly name: 'memory' | 'redis';
  create(options: SpecLimiterOptions): RateLimiter;
}

export const memoryBackend: LimiterBackend = {
  name: 'memory',
  create: (options) => createRateLimiter(options),
};

/** Redis limiters on one client under one prefix (the caller deletes the keys afterwards). */
export function redisBackend(redis: Redis, prefix: string): LimiterBackend {
  return {
    name: 'redis',
    create: (options) => createRedisRateLimiter({ ...options, redis, prefix }),
  };
}

/** A test clock, a telemetry on it, and the events recorded. */
export function recordedTelemetry(): { clock: TestClock; telemetry: Telemetry; events: TelemetryEvent[] } {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  return { clock, telemetry, events };
}

/** A memory limiter on a fresh test clock. */
export function memoryLimiter(options: Partial<MemoryLimiterOptions> = {}) {
  const clock = createTestClock();
  const limiter = createRateLimiter({ name: 'spec', limit: 2, windowMs: 1000, clock, ...options });
  return { limiter, clock };
}

/** `allow <count>/<remaining>`, `deny <retryAfterMs>` or `never`: decisions at a glance. */
export function brief(decision: Decision): string {
  if (decision.allowed) return `allow ${decision.count}/${decision.remaining}`;
  return decision.reason === 'cost_exceeds_limit' ? 'never' : `deny ${decision.retryAfterMs}`;
}

/** What a promise settles as: its value, or the error's constructor name and code. */
export async function settled<T>(promise: Promise<T>): Promise<{ value: T } | { error: string; code?: string }> {
  try {
    return { value: await promise };
  } catch (error) {
    const { code } = error as { code?: string };
    return { error: (error as Error)?.constructor?.name ?? String(error), ...(code === undefined ? {} : { code }) };
  }
}
