import { describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, limiterChild, type Clock } from '../../../src/index.js';
import { reportHit } from '../../../src/limiter/limiter-telemetry.js';
import type { Telemetry } from '../../../src/telemetry/index.js';

describe('limiter.hit events', () => {
  /** A telemetry that records what is emitted. */
  function recording(): { telemetry: Telemetry; events: Array<{ name: string; measurements: unknown; metadata: Record<string, unknown> }> } {
    const events: Array<{ name: string; measurements: unknown; metadata: Record<string, unknown> }> = [];
    const telemetry = {
      emit: (name: string, measurements: unknown, metadata: Record<string, unknown>) => events.push({ name, measurements, metadata }),
    } as unknown as Telemetry;
    return { telemetry, events };
  }

  it('carry no key field at all when keys are not reported', () => {
    const { telemetry, events } = recording();
    reportHit(telemetry, 'api', undefined, { allowed: true, count: 2, remaining: 1 }, 1, 0);
    reportHit(telemetry, 'api', undefined, { allowed: false, retryAfterMs: 5, reason: 'limit_exceeded' }, 1, 3);
    expect(events).toEqual([
      { name: 'limiter.hit', measurements: { count: 2, cost: 1 }, metadata: { limiter: 'api', allowed: true } },
      { name: 'limiter.hit', measurements: { count: 3, cost: 1 }, metadata: { limiter: 'api', allowed: false, reason: 'limit_exceeded' } },
    ]);
    expect(events.map((event) => Object.keys(event.metadata))).toEqual([
      ['limiter', 'allowed'],
      ['limiter', 'allowed', 'reason'],
    ]);
  });

  it('carry the key when it is reported', () => {
    const { telemetry, events } = recording();
    reportHit(telemetry, 'api', 'alice', { allowed: true, count: 1, remaining: 0 }, 1, 0);
    expect(events[0]!.metadata).toEqual({ limiter: 'api', allowed: true, key: 'alice' });
  });
});

describe('a limiter child', () => {
  const context = (clock: Clock) => ({ supervisor: 'root', clock, telemetry: createTelemetry(), signal: new AbortController().signal });

  it("runs its actor on the supervisor's clock when given none", () => {
    const supervisorClock = createTestClock();
    const spec = limiterChild({ name: 'login', limit: 5, windowMs: 60_000 });
    const actor = spec.start(context(supervisorClock)) as unknown as { clock: unknown };
    expect(actor.clock).toBe(supervisorClock);
    spec.limiter!.stop();
  });

  it('runs its actor on its own clock when given one', () => {
    const own = createTestClock();
    const spec = limiterChild({ name: 'login', limit: 5, windowMs: 60_000, clock: own });
    const actor = spec.start(context(createTestClock())) as unknown as { clock: unknown };
    expect(actor.clock).toBe(own);
    spec.limiter!.stop();
  });
});
