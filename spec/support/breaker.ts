import { createBreaker, type BreakerOptions } from '../../src/breaker/index.js';
import { createTelemetry, createTestClock, type TelemetryEvent } from '../../src/index.js';

/** A breaker on a test clock with its telemetry recorded. */
export function testBreaker(options: Partial<BreakerOptions> = {}) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const breaker = createBreaker({ name: 'test', clock, telemetry, ...options });
  return { breaker, clock, telemetry, events };
}

/**
 * A breaker on a test clock whose telemetry has no subscriber: without a call timeout, its closed
 * calls take the untracked path (no clock read, no event), which `testBreaker` never reaches.
 */
export function quietBreaker(options: Partial<BreakerOptions> = {}) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const breaker = createBreaker({ name: 'test', clock, telemetry, ...options });
  return { breaker, clock, telemetry };
}

export const fail = (): Promise<never> => Promise.reject(new Error('upstream failed'));
export const succeed = (): Promise<string> => Promise.resolve('ok');

/** How a settled call ended: 'ok', the error code, or the error message. */
export function describeOutcome(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code ?? message ?? String(error);
}

/** Settles a call and tells how: 'ok', the error code, or the error message. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return describeOutcome(error);
  }
}

/**
 * How a call stands once every microtask already queued has run (one macrotask turn later, no
 * time passing): 'ok', the error code or message, or 'pending'. A call whose function has settled
 * must have settled by then; waiting longer would only turn a hang into a slow timeout.
 */
export async function settledSoon(promise: Promise<unknown>): Promise<string> {
  let result = 'pending';
  promise.then(
    () => (result = 'ok'),
    (error: unknown) => (result = describeOutcome(error)),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return result;
}
