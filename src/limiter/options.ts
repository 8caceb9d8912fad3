import type { Clock } from '../clock/index.js';
import { systemClock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { boolean, clockOption, finiteNumber, integer, nonEmptyString, oneOf, record, telemetryOption } from '../core/validate.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';

/**
 * A limiter's counting algorithm. `fixed_window` counts per aligned window of `windowMs`
 * (cheapest; up to `2 · limit` across a window boundary); `sliding_window` logs every admitted
 * hit (exact: at most `limit` in any span of `windowMs`; up to `limit` entries per key);
 * `token_bucket` holds `limit` tokens refilled at `limit` per `windowMs` (a burst of `limit`,
 * then the refill rate); `leaky_bucket` is the same meter seen from the other side (a level that
 * leaks `limit` per `windowMs`).
 */
export type Algorithm = 'fixed_window' | 'sliding_window' | 'token_bucket' | 'leaky_bucket';

/** Every algorithm, in the order the docs list them. */
export const algorithms: readonly Algorithm[] = Object.freeze(['fixed_window', 'sliding_window', 'token_bucket', 'leaky_bucket']);

/** Options shared by every limiter. */
export interface LimiterOptions {
  /** Names the limiter in telemetry and errors; the Redis backend also keys its data by it. Required. */
  name: string;
  /** How hits are counted (see {@link Algorithm}). Default `'fixed_window'`. */
  algorithm?: Algorithm;
  /** Units admitted per window; for the buckets, their capacity. A positive integer. Required. */
  limit: number;
  /**
   * The window's length in ms; for the buckets, the time to refill (leak) `limit` units. Required,
   * in [1, 2^53 − 1] (fractions allowed): below 1 ms the window index leaves the safe integers,
   * above it whole milliseconds are no longer doubles.
   */
  windowMs: number;
  /**
   * The clock its windows and buckets run on; a test clock in specs. Default `systemClock` (the
   * Redis backend's default is Redis's own clock; see `createRedisRateLimiter`).
   */
  clock?: Clock;
  /** Where it reports hits and denials (`limiter.hit`). Default the shared `telemetry`. */
  telemetry?: Telemetry;
  /** Put the raw key in `limiter.hit` events' metadata. Keys can be personal data. Default false. */
  telemetryKeys?: boolean;
}

/** Options of the embedded limiter, {@link createRateLimiter}. */
export interface MemoryLimiterOptions extends LimiterOptions {
  /**
   * How often the sweeper starts a pass over the keys to drop those equivalent to a fresh key
   * (not used by the fixed window, which drops each window's counts whole when it ends).
   * Default `windowMs`, within [1000, 60000]; at least 1.
   */
  sweepIntervalMs?: number;
}

/** Options after validation and defaults, frozen. */
export interface ResolvedLimiterOptions {
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly limit: number;
  readonly windowMs: number;
  /** The clock the options gave, if any. */
  readonly clock: Clock | undefined;
  readonly telemetry: Telemetry;
  readonly telemetryKeys: boolean;
}

/** Resolved options of the embedded limiter. */
export interface ResolvedMemoryLimiterOptions extends ResolvedLimiterOptions {
  readonly clock: Clock;
  readonly sweepIntervalMs: number;
  /** Whether `sweepIntervalMs` was given (else it follows `windowMs`). */
  readonly sweepIntervalGiven: boolean;
}

/** Validates the options every limiter shares; throws {@link ConfigError} naming the first bad one. */
export function resolveLimiterOptions(options: unknown): ResolvedLimiterOptions {
  const fields = record('options', options);
  const name = nonEmptyString('name', fields.name);
  const algorithm = oneOf('algorithm', fields.algorithm, algorithms, 'fixed_window');
  if (fields.limit === undefined) throw new ConfigError('limit', fields.limit, 'an integer >= 1');
  const limit = integer('limit', fields.limit, 0, 1);
  const windowMs = windowLength('windowMs', fields.windowMs);
  const clock = clockOption<Clock | undefined>('clock', fields.clock, undefined);
  const telemetry = telemetryOption<Telemetry | undefined>('telemetry', fields.telemetry, undefined);
  return Object.freeze({
    name,
    algorithm,
    limit,
    windowMs,
    clock,
    telemetry: telemetry ?? sharedTelemetry,
    telemetryKeys: boolean('telemetryKeys', fields.telemetryKeys, false),
  });
}

/** Validates the embedded limiter's options. */
export function resolveMemoryLimiterOptions(options: unknown): ResolvedMemoryLimiterOptions {
  const shared = resolveLimiterOptions(options);
  const fields = options as Record<string, unknown>;
  const sweepIntervalGiven = fields.sweepIntervalMs !== undefined;
  const sweepIntervalMs = sweepIntervalGiven ? windowLength('sweepIntervalMs', fields.sweepIntervalMs) : defaultSweepInterval(shared.windowMs);
  return Object.freeze({ ...shared, clock: shared.clock ?? systemClock, sweepIntervalMs, sweepIntervalGiven });
}

/** The sweeper's default period: `windowMs`, within [1 s, 60 s]. */
export function defaultSweepInterval(windowMs: number): number {
  return Math.min(Math.max(windowMs, 1000), 60_000);
}

/** The options `reconfigure` can change live. */
export type LimiterReconfiguration = Partial<Pick<LimiterOptions, 'limit' | 'windowMs' | 'telemetryKeys'>>;

const changeable = ['limit', 'windowMs', 'telemetryKeys'] as const;

/**
 * Validates a live change against the options in force and returns them changed (frozen);
 * throws {@link ConfigError} on an option that cannot change live or a bad value, changing nothing.
 */
export function reconfigured<Options extends ResolvedLimiterOptions>(current: Options, patch: unknown): Options {
  const fields = record('patch', patch);
  for (const key of Object.keys(fields)) {
    if (!(changeable as readonly string[]).includes(key)) {
      throw new ConfigError(key, fields[key], `one of ${changeable.join(', ')} (cannot change live)`);
    }
  }
  return Object.freeze({
    ...current,
    limit: fields.limit === undefined ? current.limit : integer('limit', fields.limit, 0, 1),
    windowMs: fields.windowMs === undefined ? current.windowMs : windowLength('windowMs', fields.windowMs),
    telemetryKeys: boolean('telemetryKeys', fields.telemetryKeys, current.telemetryKeys),
  });
}

/** The shortest window a limiter takes: 1 ms. */
export const MIN_WINDOW_MS = 1;

/** The longest window a limiter takes: 2^53 − 1 ms, the last whole millisecond a double holds exactly. */
export const MAX_WINDOW_MS = Number.MAX_SAFE_INTEGER;

/**
 * A window length (required): a number in [{@link MIN_WINDOW_MS}, {@link MAX_WINDOW_MS}], fractions
 * allowed. Outside it the window arithmetic cannot carry the window: below 1 ms, the window index
 * `floor(now / windowMs)` leaves the safe integers (and `Number.MIN_VALUE` makes it Infinity)
 * while timers, Redis expiries and the buckets' delays count whole milliseconds anyway; above
 * 2^53 − 1 ms, whole milliseconds are no longer doubles, and a bucket's products overflow.
 */
export function windowLength(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= MIN_WINDOW_MS && value <= MAX_WINDOW_MS)) {
    throw new ConfigError(option, value, `a number of ms in [${MIN_WINDOW_MS}, 2^53 - 1]`);
  }
  return value;
}

/** A finite number > 0 (required). */
export function positive(option: string, value: unknown): number {
  // Stryker disable next-line ConditionalExpression: without it finiteNumber gives undefined its fallback 0, which the `<= 0` check below refuses with the same error.
  if (value === undefined) throw new ConfigError(option, value, 'a finite number > 0');
  const number = finiteNumber(option, value, 0, 0);
  if (number <= 0) throw new ConfigError(option, value, 'a finite number > 0');
  return number;
}
