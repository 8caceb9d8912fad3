import { describe, expect, it } from 'vitest';
import { breakerChild } from '../../../src/breaker/index.js';
import { ConfigError, startSupervisor } from '../../../src/index.js';
import { fail, outcome, succeed } from '../../support/breaker.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

describe('breakerChild', () => {
  it('runs a breaker under a supervisor with the supervisor clock, named by the breaker', async () => {
    const { clock, telemetry, named } = recordTelemetry();
    const spec = breakerChild({ name: 'payments', tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
    expect(spec.id).toBe('payments');
    expect(spec.breaker).toBeUndefined();
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    const breaker = spec.breaker!;
    expect(supervisor.whichChildren()[0]?.ref).toBe(breaker.actor);
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
    clock.advance(100);
    expect(breaker.state()).toBe('half_open');
    expect(named('breaker.state').map((event) => event.metadata.to)).toEqual(['open', 'half_open']);
  });

  it('is restarted in closed, with a fresh history, when its actor dies', async () => {
    const { clock, telemetry } = recordTelemetry();
    const spec = breakerChild({ name: 'payments', tolerance: { failures: 1, windowMs: 10_000 }, resetMs: 100 });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    const breaker = spec.breaker!;
    await outcome(breaker.call(fail));
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
    const firstActor = breaker.actor;
    firstActor.stop();
    await flush();
    expect(breaker.actor).not.toBe(firstActor);
    expect(supervisor.whichChildren()[0]?.ref).toBe(breaker.actor);
    expect(breaker.state()).toBe('closed');
    expect(await breaker.call(succeed)).toBe('ok');
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
    expect(breaker.stats().opened).toBe(1);
  });

  it('refuses calls while its actor is down and not yet restarted', async () => {
    const { clock, telemetry } = recordTelemetry();
    const spec = breakerChild({ name: 'temp', restart: 'temporary' });
    await startSupervisor({ children: [spec] }, { clock, telemetry });
    spec.breaker!.actor.stop();
    expect(spec.breaker!.state()).toBe('disabled');
    await expect(spec.breaker!.call(succeed)).rejects.toMatchObject({ code: 'ERR_BREAKER_OPEN' });
  });

  it('validates the breaker options when the spec is made', () => {
    expect(() => breakerChild({ name: 'x', resetMs: -1 })).toThrow(ConfigError);
  });
});
