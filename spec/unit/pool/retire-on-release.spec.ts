import { describe, expect, it } from 'vitest';
import { createPool, createTelemetry, createTestClock, isConfigError, type TelemetryEvent } from '../../../src/index.js';

interface Worker {
  id: number;
  dirty: boolean;
}

async function poolWith(retireOnRelease: (worker: Worker) => unknown) {
  const telemetry = createTelemetry();
  const exits: TelemetryEvent['metadata'][] = [];
  telemetry.select('pool.worker.exit').subscribe((event) => exits.push(event.metadata));
  let created = 0;
  const destroyed: number[] = [];
  const pool = await createPool<Worker>({
    name: 'retiring',
    size: 1,
    maxOverflow: 0,
    clock: createTestClock(),
    telemetry,
    worker: {
      create: () => ({ id: ++created, dirty: false }),
      destroy: (worker) => void destroyed.push(worker.id),
      retireOnRelease,
    },
  });
  return { pool, exits, destroyed };
}

describe('a factory’s retireOnRelease decides whether a released worker goes back to the pool', () => {
  it('a reason retires the worker as a destroy with that reason would, and the pool replaces it', async () => {
    const { pool, exits, destroyed } = await poolWith((worker) => (worker.dirty ? 'dirty' : undefined));
    const lease = await pool.checkout();
    lease.worker.dirty = true;
    lease.release();
    expect(destroyed).toEqual([1]);
    expect(exits).toEqual([{ pool: 'retiring', reason: 'dirty' }]);
    const next = await pool.checkout();
    expect(next.worker.id).toBe(2);
    next.release();
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    await pool.stop();
  });

  it('undefined keeps the worker', async () => {
    const { pool, destroyed } = await poolWith(() => undefined);
    (await pool.checkout()).release();
    expect((await pool.checkout()).worker.id).toBe(1);
    expect(destroyed).toEqual([]);
    await pool.stop();
  });

  it('a retireOnRelease that throws retires the worker with what it threw, and the pool keeps working', async () => {
    const broken = new Error('cannot tell');
    const { pool, exits } = await poolWith(() => {
      throw broken;
    });
    (await pool.checkout()).release();
    expect(exits).toEqual([{ pool: 'retiring', reason: broken }]);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    await pool.stop();
  });

  it('a lease released twice asks once', async () => {
    let asked = 0;
    const { pool } = await poolWith(() => {
      asked += 1;
      return undefined;
    });
    const lease = await pool.checkout();
    lease.release();
    lease.release();
    expect(asked).toBe(1);
    await pool.stop();
  });

  it('a retireOnRelease that is not a function is a ConfigError', async () => {
    const error = await createPool({ name: 'bad', worker: { create: () => ({}), retireOnRelease: 'yes' as never } }).catch((reason: unknown) => reason);
    expect(isConfigError(error)).toBe(true);
    expect(String(error)).toContain('worker.retireOnRelease');
  });
});
