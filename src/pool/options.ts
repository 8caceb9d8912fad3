import type { Clock } from '../clock/index.js';
import { systemClock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { abortSignal, boolean, callable, clockOption, finiteNumber, integer, nonEmptyString, oneOf, record, telemetryOption } from '../core/validate.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';

/** What a worker is given when it is created: the means to report its own death. */
export interface WorkerContext {
  /**
   * The worker died (idle or checked out); the pool replaces it as poolboy does. Called before
   * `create` has returned it, the creation fails: the checkout it was for is rejected with a
   * `WorkerExitedError` whose `cause` is `reason`, and the worker, once returned, is destroyed.
   */
  exit(reason?: unknown): void;
}

/** Creates and destroys the pool's workers. */
export interface WorkerFactory<W> {
  /**
   * Creates a worker. Throwing or rejecting fails the oldest waiting checkout (the one that needed
   * it, or the one now first in line); a base worker is retried after a jittered backoff. A
   * creation may take any time: checkouts waiting for it keep their timeout and signal.
   */
  create(ctx: WorkerContext): W | Promise<W>;
  /** Releases a worker's resources when it is dismissed, destroyed or the pool stops. */
  destroy?(worker: W): void | Promise<void>;
  /**
   * Asked when a lease is released: a reason (any value but `undefined`) retires the worker
   * instead of returning it to the pool, as if the lease had been destroyed with that reason; the
   * pool replaces it as poolboy replaces a dead worker. For workers a careless user can leave
   * unusable (an HTTP client with a response body unread). Throwing retires it with what it threw.
   */
  retireOnRelease?(worker: W): unknown;
}

/** Options of `createPool`. */
export interface PoolOptions<W> {
  /** Names the pool in errors and telemetry. Required. */
  name: string;
  /** Workers kept ready. Default 5. */
  size?: number;
  /** Extra workers created under load and dismissed when released with no one waiting. Default 10. */
  maxOverflow?: number;
  /** Which idle worker is handed out: the most recently returned (lifo) or the longest idle (fifo). Default 'lifo'. */
  strategy?: 'lifo' | 'fifo';
  /** Creates and destroys workers. Required. */
  worker: WorkerFactory<W>;
  /** How long a blocking checkout waits by default, in ms; `Infinity` waits for ever. Default 5000. */
  checkoutTimeoutMs?: number;
  /**
   * Ceiling of the first delay before a failed creation of a base worker is tried again; it
   * doubles with each failure in a row, up to 30 s. The delay is a random part of the ceiling
   * ("full jitter", at least 1 ms), so pools that share a failing database do not retry in
   * lockstep. Default 100.
   */
  retryBackoffMs?: number;
  /**
   * Source of the retry jitter: uniform numbers in [0, 1] (values outside are clamped; NaN counts
   * as 1). Inject one to make retry times deterministic in tests. Default `Math.random`.
   */
  random?: () => number;
  /** The clock of checkout timeouts and creation retries; a test clock in specs. Default `systemClock`. */
  clock?: Clock;
  /** Where it reports checkouts (`pool.checkout`) and worker exits. Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/** Pool options after validation and defaults, frozen. */
export interface ResolvedPoolOptions<W> {
  readonly name: string;
  readonly size: number;
  readonly maxOverflow: number;
  readonly strategy: 'lifo' | 'fifo';
  readonly worker: WorkerFactory<W>;
  readonly checkoutTimeoutMs: number;
  readonly retryBackoffMs: number;
  readonly random: () => number;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
}

/** A timeout option: a number >= 0, or `Infinity` to wait for ever. */
function timeoutOption(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ConfigError(option, value, 'a number >= 0 (Infinity to wait for ever)');
  }
  return value;
}

/** Validates pool options; throws {@link ConfigError} naming the first bad option. */
export function resolvePoolOptions<W>(options: unknown): ResolvedPoolOptions<W> {
  const fields = record('options', options);
  const name = nonEmptyString('name', fields.name);
  const worker = fields.worker as WorkerFactory<W> | undefined;
  if (typeof worker !== 'object' || worker === null || typeof worker.create !== 'function') {
    throw new ConfigError('worker', worker, 'a factory { create(ctx), destroy?(worker) }');
  }
  if (worker.destroy !== undefined && typeof worker.destroy !== 'function') {
    throw new ConfigError('worker.destroy', worker.destroy, 'a function');
  }
  if (worker.retireOnRelease !== undefined && typeof worker.retireOnRelease !== 'function') {
    throw new ConfigError('worker.retireOnRelease', worker.retireOnRelease, 'a function');
  }
  return Object.freeze({
    name,
    size: integer('size', fields.size, 5, 0),
    maxOverflow: integer('maxOverflow', fields.maxOverflow, 10, 0),
    strategy: oneOf('strategy', fields.strategy, ['lifo', 'fifo'] as const, 'lifo'),
    worker,
    checkoutTimeoutMs: timeoutOption('checkoutTimeoutMs', fields.checkoutTimeoutMs, 5000),
    retryBackoffMs: finiteNumber('retryBackoffMs', fields.retryBackoffMs, 100, 1),
    random: fields.random === undefined ? Math.random : callable<() => number>('random', fields.random),
    clock: clockOption<Clock>('clock', fields.clock, systemClock),
    telemetry: telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry),
  });
}

/** A checkout's options after validation. */
export interface CheckoutRequest {
  readonly block: boolean;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Validates the options of one checkout; throws {@link ConfigError} naming the bad one. `timeoutMs`
 * is a number >= 0 (0: give up unless a worker is free at once) or `Infinity` (wait for ever);
 * NaN, negative numbers and non-numbers are refused. Default `defaultTimeoutMs`.
 */
export function resolveCheckoutOptions(options: unknown, defaultTimeoutMs: number): CheckoutRequest {
  const fields = record('options', options);
  const signal = abortSignal('signal', fields.signal);
  return {
    block: boolean('block', fields.block, true),
    timeoutMs: timeoutOption('timeoutMs', fields.timeoutMs, defaultTimeoutMs),
    signal,
  };
}
