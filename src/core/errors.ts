/**
 * The brand of overseer's run-time errors: a registered symbol, so every copy of the package
 * installed in one process shares it. A bare `code` string is something any error can carry;
 * the brand is set only by {@link OverseerError}.
 */
const overseerErrorBrand: unique symbol = Symbol.for('overseer.error');

/**
 * The base class of every error overseer raises. Every one carries a stable `code` and the
 * package's brand; check them with the guards (`isPoolTimeoutError(e)`, `isOverseerError(e)`)
 * rather than `instanceof` of a subclass, which fails when two copies of the package are
 * installed. The errors that must be `TypeError`s (`ConfigError`, `InvalidArgumentError`)
 * extend `TypeError` and carry the brand, so `error instanceof OverseerError` holds for them too:
 * `instanceof OverseerError` checks the brand, whichever copy of the package made the error.
 */
export abstract class OverseerError extends Error {
  /** A stable, machine-readable identifier of the failure. */
  abstract readonly code: string;

  /** Sets `message`, `cause` and `name` (the subclass's name); for overseer's own error classes, not for application errors. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** `instanceof OverseerError` tests the brand; `instanceof` a subclass works as usual. */
  static override [Symbol.hasInstance](this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
    if (this === OverseerError) return isOverseerError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * Brands an error class that cannot extend {@link OverseerError} (a `TypeError`) as one of the
 * package's errors. On the prototype: every instance is branded at no cost per error.
 */
export function brandOverseerError(errorClass: { prototype: object }): void {
  Object.defineProperty(errorClass.prototype, overseerErrorBrand, { value: true });
}
brandOverseerError(OverseerError);

/** True when `error` is an {@link OverseerError} of any copy of the package (by its brand, not `instanceof`). */
export function isOverseerError(error: unknown): error is OverseerError {
  return typeof error === 'object' && error !== null && (error as { [overseerErrorBrand]?: unknown })[overseerErrorBrand] === true;
}

/** True when `error` is an {@link OverseerError} (by its brand) whose `code` equals `code`. */
export function hasOverseerCode(error: unknown, code: string): boolean {
  return isOverseerError(error) && error.code === code;
}

/**
 * An option is missing or out of range: thrown (or, by a function that returns a promise,
 * rejected with) by every constructor and factory, by `reconfigure`, and by a method for a field
 * of its options object (`checkout({ timeoutMs: -1 })`). The message names the option and the
 * value it got; `cause` is set when another library refused the value first.
 *
 * @example
 * ```ts
 * try { await startSupervisor({ intensity: -1, children: [] }); }
 * catch (error) { if (isConfigError(error)) console.error(error.option); }
 * ```
 */
export class ConfigError extends TypeError {
  /** Always `'ERR_CONFIG'`. */
  readonly code = 'ERR_CONFIG' as const;
  /** The option that was wrong, as a dotted path (`children[2].start`). */
  readonly option: string;
  /** The value the option had. */
  readonly value: unknown;

  /** Builds the message "Invalid option `option`: expected `expectation`, got `value`"; raised by overseer, built by hand only in tests. */
  constructor(option: string, value: unknown, expectation: string, options?: { cause?: unknown }) {
    super(`Invalid option ${option}: expected ${expectation}, got ${describeValue(value)}`, options);
    this.name = 'ConfigError';
    this.option = option;
    this.value = value;
  }
}
brandOverseerError(ConfigError);

/**
 * An argument of a per-call method or function, other than an options object, that is not what
 * it takes (a limiter key that is not a string, a negative cost, a child id that is not a string,
 * a span without a function): the caller's programming error, refused before anything happens. A
 * `TypeError`, as {@link ConfigError} is, and an overseer error (code `'ERR_INVALID_ARGUMENT'`);
 * `argument` names it as `method.argument` (`hit.cost`).
 *
 * @example
 * ```ts
 * try { await limiter.hit(request.headers['x-api-key']); }
 * catch (error) { if (isInvalidArgumentError(error)) console.error(error.argument); }
 * ```
 */
export class InvalidArgumentError extends TypeError {
  /** Always `'ERR_INVALID_ARGUMENT'`. */
  readonly code = 'ERR_INVALID_ARGUMENT' as const;
  /** The argument that was wrong, as `method.argument` (`hit.cost`). */
  readonly argument: string;
  /** The value it had. */
  readonly value: unknown;

  /** Builds the message "Invalid argument `argument`: expected `expectation`, got `value`"; raised by overseer, built by hand only in tests. */
  constructor(argument: string, value: unknown, expectation: string, options?: { cause?: unknown }) {
    super(`Invalid argument ${argument}: expected ${expectation}, got ${describeValue(value)}`, options);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
    this.value = value;
  }
}
brandOverseerError(InvalidArgumentError);

/** True when `error` is an {@link InvalidArgumentError}, even one from another copy of the package. */
export function isInvalidArgumentError(error: unknown): error is InvalidArgumentError {
  return hasOverseerCode(error, 'ERR_INVALID_ARGUMENT');
}

/**
 * Builds an error without capturing a stack trace: for expected outcomes (a refusal, a timeout
 * of a waiting checkout) that callers handle by code, where capturing a stack would cost more
 * than everything else the refusal does.
 */
export function withoutStack<T>(build: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** True when `error` is a {@link ConfigError}, even one from another copy of the package. */
export function isConfigError(error: unknown): error is ConfigError {
  return hasOverseerCode(error, 'ERR_CONFIG');
}

/** A short, printable rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
