import { ConfigError } from './errors.js';

/**
 * Option validators shared by every constructor. Each returns the value when it is valid (or the
 * default when it is `undefined`) and throws a {@link ConfigError} naming the option otherwise.
 */

/** A finite number `>= min` (default 0), or the default when absent. */
export function finiteNumber(option: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(option, value, `a finite number >= ${min}`);
  }
  return value;
}

/** An integer `>= min` (default 0), or the default when absent. */
export function integer(option: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(option, value, `an integer >= ${min}`);
  }
  return value;
}

/** One of the listed string literals, or the default when absent. */
export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(option, value, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** A boolean, or the default when absent. */
export function boolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(option, value, 'a boolean');
  return value;
}

/** A non-empty string (required). */
export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(option, value, 'a non-empty string');
  return value;
}

/** A function (required). */
export function callable<F extends (...args: never[]) => unknown>(option: string, value: unknown): F {
  if (typeof value !== 'function') throw new ConfigError(option, value, 'a function');
  return value as F;
}

/** A plain object (required). */
export function record(option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(option, value, 'an object');
  }
  return value as Record<string, unknown>;
}

/** A clock (`now`, `setTimeout`, `clearTimeout`), or the default when absent. */
export function clockOption<C>(option: string, value: unknown, fallback: C): C {
  if (value === undefined) return fallback;
  const clock = value as { now?: unknown; setTimeout?: unknown; clearTimeout?: unknown } | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new ConfigError(option, value, 'a Clock (now, setTimeout, clearTimeout)');
  }
  return value as C;
}

/** A telemetry instance (what `createTelemetry` returns: it has `emit` and `events$`), or the default when absent. */
export function telemetryOption<T>(option: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback;
  const telemetry = value as { emit?: unknown; events$?: unknown } | null;
  if (typeof telemetry !== 'object' || telemetry === null || typeof telemetry.emit !== 'function') {
    throw new ConfigError(option, value, 'a Telemetry (createTelemetry)');
  }
  return value as T;
}

/** An RxJS observable (something with `subscribe`), e.g. `telemetry.events$` (required). */
export function observable<O>(option: string, value: unknown): O {
  const candidate = value as { subscribe?: unknown } | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.subscribe !== 'function') {
    throw new ConfigError(option, value, 'an Observable of telemetry events, e.g. telemetry.events$');
  }
  return value as O;
}

/** True when `value` looks like an AbortSignal (by its shape, so a signal of another realm passes too). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  const signal = value as Partial<AbortSignal> | null;
  return (
    typeof signal === 'object' &&
    signal !== null &&
    typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function' &&
    typeof signal.removeEventListener === 'function'
  );
}

/** An AbortSignal, or `undefined` when absent. */
export function abortSignal(option: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !isAbortSignal(value)) throw new ConfigError(option, value, 'an AbortSignal');
  return value;
}
