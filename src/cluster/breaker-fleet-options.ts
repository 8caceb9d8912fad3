import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { clockOption, integer, nonEmptyString, record, telemetryOption } from '../core/validate.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';
import type { BreakerFleetRedis, BreakerFleetSubscriber } from './breaker-fleet-redis.js';
import { wellFormed } from './lease-options.js';

/**
 * Options of {@link createBreakerFleet}: the Redis connections, this instance's id, the key
 * prefix and the timings. Give every instance of a service the same Redis and `prefix` (they
 * form one fleet) and each its own `instance`; the defaults suit most services.
 */
export interface BreakerFleetOptions {
  /**
   * The command connection: an ioredis `Redis` (or `Cluster`), or anything with its `evalsha` and
   * `eval` (the limiter's `RedisLike` fits). Required.
   */
  redis: BreakerFleetRedis;
  /**
   * A connection of its own for SUBSCRIBE (a connection in subscriber mode runs no other command).
   * Default `redis.duplicate()`, which the fleet then owns: it handles its `'error'` events and
   * disconnects it on `stop()`. A subscriber you pass stays yours: the fleet unsubscribes and
   * leaves it connected.
   */
  subscriber?: BreakerFleetSubscriber;
  /** This instance's id in the view and in the isolations it makes. Default a random UUID. */
  instance?: string;
  /** Every key and the channel start with it; no `{` or `}`. Fleets with different prefixes never meet. Default `'overseer'`. */
  prefix?: string;
  /**
   * How often, in ms, the fleet publishes its breakers' states and re-reads the isolations of its
   * breakers from Redis (an integer, at least 10). An instance not heard from for `3 × heartbeatMs` leaves
   * the view. Default 5000.
   */
  heartbeatMs?: number;
  /**
   * How long an isolation outlives the instance that made it, in ms (an integer, at least 30), unless
   * `isolate()` says otherwise: that instance refreshes it every third of it. Default 30000.
   */
  isolationTtlMs?: number;
  /** How long a Redis operation may take before it counts as failed, in ms (an integer, at least 1). Default 1000. */
  timeoutMs?: number;
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/** {@link BreakerFleetOptions} with every default applied. */
export interface ResolvedBreakerFleetOptions {
  readonly redis: BreakerFleetRedis;
  readonly subscriber: BreakerFleetSubscriber;
  /** Whether the fleet made the subscriber (and so disconnects it on stop). */
  readonly ownsSubscriber: boolean;
  readonly instance: string;
  readonly prefix: string;
  readonly heartbeatMs: number;
  readonly isolationTtlMs: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
}

/** The shortest isolation TTL: refreshed every third of it, so every 10 ms at the least. */
export const MIN_ISOLATION_TTL_MS = 30;

const subscriberMethods = ['subscribe', 'on', 'removeListener'] as const;

function resolveSubscriber(given: unknown, redis: BreakerFleetRedis): { subscriber: BreakerFleetSubscriber; owns: boolean } {
  if (given === undefined) {
    const duplicate = (redis as { duplicate?: unknown }).duplicate;
    if (typeof duplicate !== 'function') {
      throw new ConfigError('subscriber', given, 'a connection of its own for SUBSCRIBE (required when redis has no duplicate())');
    }
    const made = duplicate.call(redis) as BreakerFleetSubscriber;
    checkSubscriber('redis.duplicate()', made);
    return { subscriber: made, owns: true };
  }
  if (given === redis) throw new ConfigError('subscriber', given, 'a connection other than redis (a subscribed connection runs no other command)');
  checkSubscriber('subscriber', given);
  return { subscriber: given as BreakerFleetSubscriber, owns: false };
}

function checkSubscriber(option: string, value: unknown): void {
  const subscriber = record(option, value);
  for (const method of subscriberMethods) {
    if (typeof subscriber[method] !== 'function') throw new ConfigError(`${option}.${method}`, subscriber[method], 'a function (an ioredis client)');
  }
}

/** Validates the options, then makes the subscriber when none is given; throws {@link ConfigError} naming the first bad one. */
export function resolveBreakerFleetOptions(options: unknown): ResolvedBreakerFleetOptions {
  const fields = record('options', options);
  const redis = record('redis', fields.redis) as unknown as BreakerFleetRedis;
  for (const method of ['evalsha', 'eval'] as const) {
    if (typeof redis[method] !== 'function') throw new ConfigError(`redis.${method}`, redis[method], 'a function (an ioredis client or a RedisLike)');
  }
  const instance = fields.instance === undefined ? randomUUID() : wellFormed('instance', nonEmptyString('instance', fields.instance));
  const prefix = fields.prefix === undefined ? 'overseer' : wellFormed('prefix', nonEmptyString('prefix', fields.prefix));
  if (/[{}]/.test(prefix)) throw new ConfigError('prefix', prefix, "a string without '{' or '}'");
  const heartbeatMs = integer('heartbeatMs', fields.heartbeatMs, 5000, 10);
  const isolationTtlMs = integer('isolationTtlMs', fields.isolationTtlMs, 30_000, MIN_ISOLATION_TTL_MS);
  const timeoutMs = integer('timeoutMs', fields.timeoutMs, 1000, 1);
  const clock = clockOption<Clock>('clock', fields.clock, systemClock);
  const telemetry = telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry);
  // Last: nothing is connected for options that are refused.
  const { subscriber, owns } = resolveSubscriber(fields.subscriber, redis);
  return Object.freeze({ redis, subscriber, ownsSubscriber: owns, instance, prefix, heartbeatMs, isolationTtlMs, timeoutMs, clock, telemetry });
}
