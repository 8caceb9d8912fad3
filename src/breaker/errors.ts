import { OverseerError, brandOverseerError, describeValue, hasCode, withoutStack } from '../core/index.js';

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
  readonly code = 'ERR_BREAKER_OPEN' as const;
  /** The breaker's name. */
  readonly breaker: string;
  /** The state that refused the call. */
  readonly state: 'open' | 'half_open' | 'disabled';
  private readonly retryAfter: number | (() => number);

  constructor(breaker: string, retryAfterMs: number | (() => number), state: 'open' | 'half_open' | 'disabled') {
    const when = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) ? ` (retry after ${Math.ceil(retryAfterMs)} ms)` : '';
    super(`breaker '${breaker}' is ${state.replace('_', '-')}: call refused${when}`);
    this.breaker = breaker;
    this.retryAfter = retryAfterMs;
    this.state = state;
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
  ): BreakerOpenError {
    return withoutStack(() => new BreakerOpenError(breaker, retryAfterMs, state));
  }

  /** A plain object with the live `retryAfterMs`, for logs and JSON responses. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, breaker: this.breaker, state: this.state, retryAfterMs: this.retryAfterMs };
  }
}

/** A call took longer than the breaker's `callTimeoutMs`; it counts as a failure and its signal was aborted. */
export class BreakerTimeoutError extends OverseerError {
  readonly code = 'ERR_BREAKER_TIMEOUT' as const;
  readonly breaker: string;
  readonly timeoutMs: number;

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

  constructor(breaker: string, argument: string, value: unknown, expectation: string) {
    super(`breaker '${breaker}': call(fn, options) expects ${argument} to be ${expectation}, got ${describeValue(value)}`);
    this.name = 'BreakerArgumentError';
    this.breaker = breaker;
    this.argument = argument;
    this.value = value;
  }
}
brandOverseerError(BreakerArgumentError);

/** True when `error` is a {@link BreakerArgumentError}, even from another copy of the package. */
export function isBreakerArgumentError(error: unknown): error is BreakerArgumentError {
  return hasCode(error, 'ERR_BREAKER_ARGUMENT');
}

/** True when `error` is a {@link BreakerOpenError}, even from another copy of the package. */
export function isBreakerOpenError(error: unknown): error is BreakerOpenError {
  return hasCode(error, 'ERR_BREAKER_OPEN');
}

/** True when `error` is a {@link BreakerTimeoutError}, even from another copy of the package. */
export function isBreakerTimeoutError(error: unknown): error is BreakerTimeoutError {
  return hasCode(error, 'ERR_BREAKER_TIMEOUT');
}
