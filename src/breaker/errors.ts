import { OverseerError, brandOverseerError, describeValue, hasOverseerCode, withoutStack } from '../core/index.js';
import type { BreakerIsolation } from './isolation.js';

/**
 * A breaker refused a call without running it: it is open, half-open with every probe slot taken,
 * or disabled. `retryAfterMs` says when the next probe can be admitted: 0 when a probe slot may
 * free up any moment (half-open), `Infinity` while disabled.
 *
 * It carries no stack trace: a refusal is an expected outcome, not a bug, and must stay cheap.
 * A breaker refuses every call of one open (or half-open, or disabled) spell with the same
 * error, whose `retryAfterMs` is computed when read, so it is exact whenever it is looked at.
 */
export class BreakerOpenError extends OverseerError {
  /** Always `'ERR_BREAKER_OPEN'`. */
  readonly code = 'ERR_BREAKER_OPEN' as const;
  /** The breaker's name. */
  readonly breaker: string;
  /** The state that refused the call. */
  readonly state: 'open' | 'half_open' | 'disabled';
  /**
   * Set when the breaker refused because a breaker fleet isolated it across instances (`state` is
   * then `'disabled'` and `retryAfterMs` Infinity: it lasts until restored); `undefined` otherwise.
   */
  readonly isolation: BreakerIsolation | undefined;
  private readonly retryAfter: number | (() => number);

  /**
   * Builds the refusal of `breaker` in `state`; `retryAfterMs` is a number or a function read
   * each time `retryAfterMs` is. Breakers raise it themselves (through `refuse`); build one to
   * fake a refusal in a test of code that handles it.
   */
  constructor(breaker: string, retryAfterMs: number | (() => number), state: 'open' | 'half_open' | 'disabled', isolation?: BreakerIsolation) {
    const when = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? ` (retry after ${Math.ceil(retryAfterMs)} ms)` : '';
    const why =
      isolation === undefined
        ? state.replace('_', '-')
        : `isolated across instances by '${isolation.by}'${isolation.reason === undefined ? '' : ` (${isolation.reason})`}`;
    super(`breaker '${breaker}' is ${why}: call refused${when}`);
    this.breaker = breaker;
    this.retryAfter = retryAfterMs;
    this.state = state;
    this.isolation = isolation;
  }

  /** Milliseconds until a probe can be admitted, as of now. */
  get retryAfterMs(): number {
    return typeof this.retryAfter === 'number' ? this.retryAfter : this.retryAfter();
  }

  /** Creates the error without a stack trace. */
  static refuse(
    breaker: string,
    retryAfterMs: number | (() => number),
    state: 'open' | 'half_open' | 'disabled',
    isolation?: BreakerIsolation,
  ): BreakerOpenError {
    return withoutStack(() => new BreakerOpenError(breaker, retryAfterMs, state, isolation));
  }

  /** A plain object with the live `retryAfterMs`, for logs and JSON responses. */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = { name: this.name, code: this.code, message: this.message, breaker: this.breaker, state: this.state, retryAfterMs: this.retryAfterMs };
    if (this.isolation !== undefined) json.isolation = { ...this.isolation };
    return json;
  }
}

/** A call took longer than the breaker's `callTimeoutMs`; it counts as a failure and its signal was aborted. */
export class BreakerTimeoutError extends OverseerError {
  /** Always `'ERR_BREAKER_TIMEOUT'`. */
  readonly code = 'ERR_BREAKER_TIMEOUT' as const;
  /** The breaker's name. */
  readonly breaker: string;
  /** The `callTimeoutMs` the call exceeded. */
  readonly timeoutMs: number;

  /** Builds the timeout of a call to `breaker` after `timeoutMs`; raised by the breaker, built by hand only in tests. */
  constructor(breaker: string, timeoutMs: number) {
    super(`breaker '${breaker}': call timed out after ${timeoutMs} ms`);
    this.breaker = breaker;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A call was made with something that is not a call: `fn` not a function, or `options` (its
 * `neutral`, its `signal`) not what they claim. A caller's programming error, not the protected
 * service's failure: the call is rejected at once, nothing runs, and nothing is counted (neither
 * a failure nor a refusal), in every state. A `TypeError`, as {@link ConfigError} is.
 */
export class BreakerArgumentError extends TypeError {
  /** Always `'ERR_BREAKER_ARGUMENT'`. */
  readonly code = 'ERR_BREAKER_ARGUMENT' as const;
  /** The breaker's name. */
  readonly breaker: string;
  /** The argument that was wrong: `fn`, `options`, `options.neutral` or `options.signal`. */
  readonly argument: string;
  /** The value it had. */
  readonly value: unknown;

  /** Builds the refusal of a malformed call; `expectation` completes the message ("expects `argument` to be ..."). */
  constructor(breaker: string, argument: string, value: unknown, expectation: string) {
    super(`breaker '${breaker}': call(fn, options) expects ${argument} to be ${expectation}, got ${describeValue(value)}`);
    this.name = 'BreakerArgumentError';
    this.breaker = breaker;
    this.argument = argument;
    this.value = value;
  }
}
brandOverseerError(BreakerArgumentError);

/** True when `error` is a {@link BreakerArgumentError}, even from another copy of the package (by the package's brand and the code). */
export function isBreakerArgumentError(error: unknown): error is BreakerArgumentError {
  return hasOverseerCode(error, 'ERR_BREAKER_ARGUMENT');
}

/** True when `error` is a {@link BreakerOpenError}, even from another copy of the package (by the package's brand and the code). */
export function isBreakerOpenError(error: unknown): error is BreakerOpenError {
  return hasOverseerCode(error, 'ERR_BREAKER_OPEN');
}

/** True when `error` is a {@link BreakerTimeoutError}, even from another copy of the package (by the package's brand and the code). */
export function isBreakerTimeoutError(error: unknown): error is BreakerTimeoutError {
  return hasOverseerCode(error, 'ERR_BREAKER_TIMEOUT');
}
