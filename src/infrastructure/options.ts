import type { BreakerReconfiguration } from '../breaker/index.js';
import { ConfigError, describeValue } from '../core/index.js';
import { record } from '../core/validate.js';
import type { LimiterReconfiguration } from '../limiter/index.js';
import type { PoolReconfiguration } from '../pool/index.js';

/** What a namespace's configuration may hold. */
export const namespaceKeys: ReadonlySet<string> = new Set(['breakers', 'limiters', 'pools', 'threadPools', 'intensity', 'period']);

/**
 * The options each kind of component can change live, as its `reconfigure` accepts them. Typed as
 * a record over the reconfiguration type, so the compiler keeps each list complete and exact.
 */
export const breakerLiveKeys: Readonly<Record<keyof BreakerReconfiguration, true>> = {
  tolerance: true,
  failureRate: true,
  resetMs: true,
  halfOpenProbes: true,
  callTimeoutMs: true,
  isFailure: true,
};
export const limiterLiveKeys: Readonly<Record<keyof LimiterReconfiguration, true>> = { limit: true, windowMs: true, telemetryKeys: true };
export const poolLiveKeys: Readonly<Record<keyof PoolReconfiguration, true>> = {
  size: true,
  maxOverflow: true,
  strategy: true,
  checkoutTimeoutMs: true,
  retryBackoffMs: true,
};

/**
 * Runs a validation, naming the option it rejects by its full path: a `ConfigError` for `resetMs`
 * thrown while checking `namespaces.billing.breakers.payments` becomes one for
 * `namespaces.billing.breakers.payments.resetMs`, with the same value and expectation.
 */
export function within<T>(path: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const head = `Invalid option ${error.option}: expected `;
    const tail = `, got ${describeValue(error.value)}`;
    if (!error.message.startsWith(head) || !error.message.endsWith(tail)) throw error;
    throw new ConfigError(`${path}.${error.option}`, error.value, error.message.slice(head.length, error.message.length - tail.length));
  }
}

/** The entries of an optional section: absent is empty, anything but an object is a ConfigError naming it. */
export function sectionEntries(path: string, value: unknown): Array<[string, unknown]> {
  return value === undefined ? [] : Object.entries(record(path, value));
}

/** Rejects any key of `change` that its component cannot change live. */
export function checkLiveKeys(path: string, change: Record<string, unknown>, live: Readonly<Record<string, true>>): void {
  for (const key of Object.keys(change)) {
    if (!Object.hasOwn(live, key)) throw new ConfigError(`${path}.${key}`, change[key], `one of ${Object.keys(live).join(', ')} (the options that can change live)`);
  }
}
