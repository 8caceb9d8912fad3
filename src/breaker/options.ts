import type { Clock } from '../clock/index.js';
import { systemClock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { integer, nonEmptyString, record, clockOption, telemetryOption } from '../core/validate.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';
import { AnyTolerance, CountTolerance, RateTolerance, type Tolerance } from './tolerance.js';

/** Options of `createBreaker`. */
export interface BreakerOptions {
  /** Names the breaker in errors, telemetry and look-ups. Required. */
  name: string;
  /**
   * fuse's count tolerance: opens when the failures inside the last `windowMs` exceed `failures`
   * (any integer up to `Number.MAX_SAFE_INTEGER`; memory follows the failures that actually
   * happen, not this number). Default `{ failures: 5, windowMs: 10000 }`.
   */
  tolerance?: {
    /** Failures tolerated within the window; one more opens the breaker. An integer from 0 up. */
    failures: number;
    /** The window the failures are counted in, in ms. */
    windowMs: number;
  };
  /**
   * A rate tolerance besides the count one: opens when, with at least `minimumCalls` calls in the
   * last `windowMs`, the failure ratio reaches `threshold` (in (0, 1]). Default none.
   */
  failureRate?: {
    /** The failure ratio that opens the breaker, in (0, 1]. */
    threshold: number;
    /** Calls within the window needed before the ratio is judged; an integer from 1 up. */
    minimumCalls: number;
    /** The window the calls are counted in, in ms. */
    windowMs: number;
  };
  /** Open → half_open after this many ms. Default 30000. */
  resetMs?: number;
  /** Successful probes needed in half_open to close; also the most probes admitted at once. Default 1. */
  halfOpenProbes?: number;
  /** A call slower than this is a failure: its signal is aborted and it rejects. Default none. */
  callTimeoutMs?: number;
  /**
   * Which errors count as failures. Default: every error. Errors that don't count still propagate
   * (and count as successes). If it throws, the call rejects with what it threw and counts as a failure.
   */
  isFailure?: (error: unknown) => boolean;
  /** The clock its windows, reset timer and call timeouts run on; a test clock in specs. Default `systemClock`. */
  clock?: Clock;
  /** Where it reports calls, refusals and state changes. Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/** Options after validation and defaults, frozen. */
export interface ResolvedBreakerOptions {
  readonly name: string;
  readonly tolerance: { readonly failures: number; readonly windowMs: number };
  readonly failureRate: { readonly threshold: number; readonly minimumCalls: number; readonly windowMs: number } | undefined;
  readonly resetMs: number;
  readonly halfOpenProbes: number;
  readonly callTimeoutMs: number | undefined;
  readonly isFailure: ((error: unknown) => boolean) | undefined;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
}

/** Validates breaker options; throws {@link ConfigError} naming the first bad option. */
export function resolveBreakerOptions(options: unknown): ResolvedBreakerOptions {
  const fields = record('options', options);
  const name = nonEmptyString('name', fields.name);
  const toleranceFields = fields.tolerance === undefined ? {} : record('tolerance', fields.tolerance);
  const tolerance = Object.freeze({
    failures: integer('tolerance.failures', toleranceFields.failures, 5, 0),
    windowMs: positive('tolerance.windowMs', toleranceFields.windowMs, 10_000),
  });
  let failureRate: ResolvedBreakerOptions['failureRate'];
  if (fields.failureRate !== undefined) {
    const rate = record('failureRate', fields.failureRate);
    const threshold = rate.threshold;
    if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
      throw new ConfigError('failureRate.threshold', threshold, 'a number in (0, 1]');
    }
    failureRate = Object.freeze({
      threshold,
      minimumCalls: integer('failureRate.minimumCalls', rate.minimumCalls, 10, 1),
      windowMs: positive('failureRate.windowMs', rate.windowMs, 10_000),
    });
  }
  const isFailure = fields.isFailure;
  if (isFailure !== undefined && typeof isFailure !== 'function') throw new ConfigError('isFailure', isFailure, 'a function');
  return Object.freeze({
    name,
    tolerance,
    failureRate,
    resetMs: positive('resetMs', fields.resetMs, 30_000),
    halfOpenProbes: integer('halfOpenProbes', fields.halfOpenProbes, 1, 1),
    callTimeoutMs: fields.callTimeoutMs === undefined ? undefined : positive('callTimeoutMs', fields.callTimeoutMs, 0),
    isFailure: isFailure as ResolvedBreakerOptions['isFailure'],
    clock: clockOption<Clock>('clock', fields.clock, systemClock),
    telemetry: telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry),
  });
}

/** A finite number `> 0`, or the default when absent. */
function positive(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  // Stryker disable next-line ConditionalExpression: Number.isFinite is false for every non-number; the typeof is for the type checker
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(option, value, 'a finite number > 0');
  return value;
}

/** The tolerance strategy the options ask for. */
export function toleranceFor(options: ResolvedBreakerOptions): Tolerance {
  const count = new CountTolerance(options.tolerance.failures, options.tolerance.windowMs);
  if (!options.failureRate) return count;
  const { threshold, minimumCalls, windowMs } = options.failureRate;
  return new AnyTolerance([count, new RateTolerance(threshold, minimumCalls, windowMs)]);
}
