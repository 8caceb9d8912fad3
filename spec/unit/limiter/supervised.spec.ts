import { describe, expect, it } from 'vitest';
import { ConfigError, limiterChild, startSupervisor } from '../../../src/index.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

describe('limiterChild', () => {
  it('runs a limiter under a supervisor, on its clock and telemetry, named by the limiter', async () => {
    const { clock, telemetry, named } = recordTelemetry();
    const spec = limiterChild({ name: 'login', algorithm: 'sliding_window', limit: 2, windowMs: 1000 });
    expect(spec.id).toBe('login');
    expect(spec.limiter).toBeUndefined();
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    const limiter = spec.limiter!;
    expect(limiter.name).toBe('login');
    expect(supervisor.whichChildren()[0]?.ref).toBeDefined();
    limiter.hitSync('ip');
    expect(named('limiter.hit')).toHaveLength(1);
    clock.advance(2000);
    expect(limiter.size).toBe(0);
    await supervisor.stop();
  });

  it("stopping it cancels the limiter's timers", async () => {
    for (const algorithm of ['fixed_window', 'token_bucket'] as const) {
      const { clock, telemetry } = recordTelemetry();
      const spec = limiterChild({ name: 'api', algorithm, limit: 5, windowMs: 1000 });
      const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
      spec.limiter!.hitSync('k');
      expect(clock.pendingTimers()).toBeGreaterThan(0);
      await supervisor.stop();
      expect(clock.pendingTimers()).toBe(0);
    }
  });

  it('is restarted with the same limiter, counts kept, when its actor dies', async () => {
    const { clock, telemetry } = recordTelemetry();
    const spec = limiterChild({ name: 'api', limit: 2, windowMs: 1000 });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    const limiter = spec.limiter!;
    limiter.hitSync('k');
    limiter.hitSync('k');
    const firstActor = supervisor.whichChildren()[0]!.ref!;
    firstActor.stop();
    await flush();
    const secondActor = supervisor.whichChildren()[0]!.ref;
    expect(secondActor).toBeDefined();
    expect(secondActor).not.toBe(firstActor);
    expect(spec.limiter).toBe(limiter);
    expect(limiter.hitSync('k').allowed).toBe(false);
    await supervisor.stop();
  });

  it('validates the limiter options when the spec is made', () => {
    expect(() => limiterChild({ name: 'x', limit: 0, windowMs: 1000 })).toThrow(ConfigError);
  });
});

describe('limiterChild.reconfigure', () => {
  it('changes the running limiter live, and is kept for the first start when made before it', async () => {
    const { clock, telemetry } = recordTelemetry();
    const spec = limiterChild({ name: 'api', limit: 1, windowMs: 1000 });
    spec.reconfigure({ limit: 2 });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    const limiter = spec.limiter!;
    expect(limiter.hitSync('k')).toMatchObject({ allowed: true, remaining: 1 });
    spec.reconfigure({ windowMs: 2000 });
    spec.reconfigure({ limit: 3 });
    expect(limiter.hitSync('k')).toMatchObject({ allowed: true, count: 1, remaining: 2 });
    expect(() => spec.reconfigure({ limit: -1 })).toThrow(ConfigError);
    await supervisor.stop();
  });
});
