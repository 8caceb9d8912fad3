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

export const fail = (): Promise<never> => Promise.reject(new Error('upstream failed'));
export const succeed = (): Promise<string> => Promise.resolve('ok');

/** Settles a call and tells how: 'ok', the error code, or the error message. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return code ?? message ?? String(error);
  }
}
