import { describe, expect, it } from 'vitest';
import { createPool, poolChild } from '../../../src/pool/index.js';
import { createTelemetry, createTestClock, startSupervisor, type TelemetryEvent } from '../../../src/index.js';
import { recordTelemetry } from '../../support/supervision.js';
import { settledYet, TestFactory, type TestWorker } from '../../support/pool.js';

describe('a pool child', () => {
  it('keeps its own clock and telemetry over the supervisor ones', async () => {
    const supervisorSide = recordTelemetry();
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const own: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => own.push(event));
    const spec = poolChild<TestWorker>({ name: 'db', size: 1, maxOverflow: 0, worker: new TestFactory(), checkoutTimeoutMs: 100, clock, telemetry });
    const supervisor = await startSupervisor({ children: [spec] }, { clock: supervisorSide.clock, telemetry: supervisorSide.telemetry });
    const lease = await spec.pool!.checkout();
    const waiting = spec.pool!.checkout().catch((error: { code: string }) => error.code);
    supervisorSide.clock.advance(100);
    expect(await settledYet(waiting)).toBe(false);
    clock.advance(100);
    expect(await waiting).toBe('ERR_POOL_TIMEOUT');
    expect(own.filter((event) => event.name === 'pool.checkout').map((event) => event.metadata.outcome)).toEqual(['ok', 'timeout']);
    expect(supervisorSide.named('pool.checkout')).toEqual([]);
    lease.release();
    supervisorSide.clock.advance(10_000);
    clock.advance(10_000);
    await supervisor.stop();
  });

  it('uses the supervisor telemetry when it has none of its own', async () => {
    const supervisorSide = recordTelemetry();
    const spec = poolChild<TestWorker>({ name: 'db', size: 1, maxOverflow: 0, worker: new TestFactory() });
    const supervisor = await startSupervisor({ children: [spec] }, { clock: supervisorSide.clock, telemetry: supervisorSide.telemetry });
    (await spec.pool!.checkout()).release();
    expect(supervisorSide.named('pool.checkout').map((event) => event.metadata.outcome)).toEqual(['ok']);
    await supervisor.stop();
  });

  it('can be reconfigured before it starts, and starts with the new options', async () => {
    const supervisorSide = recordTelemetry();
    const spec = poolChild<TestWorker>({ name: 'db', size: 1, maxOverflow: 0, worker: new TestFactory() });
    expect(() => spec.reconfigure({ size: 3 })).not.toThrow();
    const supervisor = await startSupervisor({ children: [spec] }, { clock: supervisorSide.clock, telemetry: supervisorSide.telemetry });
    expect(spec.pool!.status()).toMatchObject({ idle: 3 });
    await supervisor.stop();
  });
});

describe('a pool actor', () => {
  it('is named after the pool and carries it in its context', async () => {
    const clock = createTestClock();
    const pool = await createPool<TestWorker>({ name: 'cache', size: 0, worker: new TestFactory(), clock, telemetry: createTelemetry({ clock }) });
    expect(pool.actor.id).toBe('pool:cache');
    expect(pool.actor.getSnapshot().context).toEqual({ name: 'cache', pool, kind: 'pool' });
    await pool.stop();
  });
});
