import { describe, expect, it } from 'vitest';
import { createPool, type Lease, type Pool, type PoolStatus } from '../../../src/pool/index.js';
import { createTelemetry, createTestClock } from '../../../src/index.js';

// The factory's create and destroy and telemetry subscribers are user code that may call back
// into the pool while it is handing workers around. They run after the pool's own bookkeeping,
// so they always meet counts that add up.

interface Item {
  id: number;
}

describe('user code that calls back into the pool', () => {
  it('a destroy that checks out meets the pool consistent and is served', async () => {
    const seen: PoolStatus[] = [];
    let pool!: Pool<Item>;
    let inner: Promise<Lease<Item>> | undefined;
    let made = 0;
    pool = await createPool<Item>({
      name: 'reentrant-destroy',
      size: 1,
      maxOverflow: 1,
      clock: createTestClock(),
      worker: {
        create: () => ({ id: (made += 1) }),
        destroy: () => {
          seen.push(pool.status());
          inner ??= pool.checkout();
        },
      },
    });
    await pool.checkout();
    const overflowing = await pool.checkout();
    overflowing.release();
    expect(seen).toEqual([{ state: 'overflow', idle: 0, overflow: 0, checkedOut: 1, waiting: 0 }]);
    expect((await inner!).worker.id).toBe(3);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 1, checkedOut: 2, waiting: 0 });
  });

  it('a create that returns at once while a checkout is being queued serves that checkout', async () => {
    let made = 0;
    const pool = await createPool<Item>({ name: 'sync-create', size: 0, maxOverflow: 2, clock: createTestClock(), worker: { create: () => ({ id: (made += 1) }) } });
    const [a, b] = await Promise.all([pool.checkout(), pool.checkout()]);
    expect([a.worker.id, b.worker.id]).toEqual([1, 2]);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 2, checkedOut: 2, waiting: 0 });
  });

  it('a telemetry subscriber that reads status or releases while told of a checkout meets consistent counts', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    let pool!: Pool<Item>;
    const seen: Array<[string, PoolStatus]> = [];
    telemetry.select('pool.checkout').subscribe((event) => seen.push([String(event.metadata.outcome), pool.status()]));
    pool = await createPool<Item>({ name: 'observed', size: 1, maxOverflow: 0, clock, telemetry, worker: { create: () => ({ id: 1 }) } });
    const held = await pool.checkout();
    const waiting = pool.checkout({ timeoutMs: 100 });
    held.release();
    await waiting;
    expect(seen).toEqual([
      ['ok', { state: 'full', idle: 0, overflow: 0, checkedOut: 1, waiting: 0 }],
      ['ok', { state: 'full', idle: 0, overflow: 0, checkedOut: 1, waiting: 0 }],
    ]);
  });

  it('a destroy that stops the pool while it dismisses a worker leaves it stopped and consistent', async () => {
    let pool!: Pool<Item>;
    let stopping: Promise<void> | undefined;
    let made = 0;
    pool = await createPool<Item>({
      name: 'stop-from-destroy',
      size: 1,
      maxOverflow: 1,
      clock: createTestClock(),
      worker: { create: () => ({ id: (made += 1) }), destroy: () => void (stopping ??= pool.stop()) },
    });
    const base = await pool.checkout();
    const overflowing = await pool.checkout();
    const waiting = pool.checkout().catch((error: { code: string }) => error.code);
    overflowing.destroy('broken');
    await stopping;
    expect(await waiting).toBe('ERR_POOL_STOPPED');
    base.release();
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 0, checkedOut: 0, waiting: 0 });
    expect(pool.actor.getSnapshot().status).toBe('done');
  });
});
