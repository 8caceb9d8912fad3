import { describe, expect, it } from 'vitest';
import { createPool, type Lease } from '../../../src/pool/index.js';
import { createTelemetry, createTestClock } from '../../../src/index.js';
import { outcomeOf, settledYet, testPool, type TestWorker } from '../../support/pool.js';

// poolboy creates a worker inside the pool process, so a caller never sees one "being created":
// it queues only when no worker is idle and overflow is at its maximum. Here creations take time;
// these rules say what a checkout does meanwhile.

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a checkout while a worker is being created', () => {
  it('checkouts that arrive while the only base worker is re-created overflow while room is left, and all are served', async () => {
    // The audit's case: size 1, maxOverflow 3, a 50 ms create; the only worker's lease is destroyed, then three checkouts.
    const clock = createTestClock();
    let slow = false;
    let made = 0;
    const pool = await createPool<{ id: number }>({
      name: 'db',
      size: 1,
      maxOverflow: 3,
      checkoutTimeoutMs: 1000,
      clock,
      telemetry: createTelemetry({ clock }),
      worker: {
        create: () => {
          const worker = { id: (made += 1) };
          return slow ? new Promise((resolve) => clock.setTimeout(() => resolve(worker), 50)) : worker;
        },
      },
    });
    slow = true;
    (await pool.checkout()).destroy('broken');
    const checkouts = [1, 2, 3].map(() => outcomeOf(pool.checkout()));
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 2, checkedOut: 0, waiting: 0 });
    clock.advance(50);
    const outcomes = await Promise.all(checkouts);
    expect(outcomes.map((outcome) => typeof outcome)).toEqual(['object', 'object', 'object']);
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 2, checkedOut: 3, waiting: 0 });
    expect(made).toBe(4);
    await pool.stop();
  });

  it('a base creation that fails rejects one checkout and strands no other', async () => {
    const { pool, factory, clock } = await testPool({ size: 1, maxOverflow: 3, checkoutTimeoutMs: 1000 });
    const lease = await pool.checkout();
    factory.hold = true;
    lease.destroy('broken');
    const checkouts = [1, 2, 3].map(() => outcomeOf(pool.checkout()));
    factory.held[0]!.fail(new Error('database down'));
    // Every other creation the pool starts from now on succeeds, whenever it starts.
    for (let elapsed = 0; elapsed <= 1000; elapsed += 10) {
      for (const creation of factory.open) creation.succeed();
      await flush();
      clock.advance(10);
    }
    const outcomes = await Promise.all(checkouts);
    expect(outcomes.filter((outcome) => outcome === 'database down')).toHaveLength(1);
    expect(outcomes.filter((outcome) => typeof outcome === 'object')).toHaveLength(2);
    expect(pool.status()).toMatchObject({ checkedOut: 2, waiting: 0 });
  });

  it('a checkout gives up at its timeout while the overflow worker it needs is still being created; the late worker is dismissed', async () => {
    const { pool, factory, clock } = await testPool({ size: 1, maxOverflow: 1 });
    const held = await pool.checkout();
    factory.hold = true;
    const waiting = outcomeOf(pool.checkout({ timeoutMs: 100 }));
    clock.advance(99);
    expect(await settledYet(waiting)).toBe(false);
    clock.advance(1);
    expect(await settledYet(waiting)).toBe(true);
    expect(await waiting).toBe('ERR_POOL_TIMEOUT');
    factory.held[0]!.succeed();
    await flush();
    // Nobody waits and the pool is overflowing: poolboy dismisses a worker that comes back then.
    expect(factory.destroyed.map((worker) => worker.id)).toEqual([2]);
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 0, checkedOut: 1, waiting: 0 });
    held.release();
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
  });

  it('an abort withdraws a checkout whose worker is still being created; the late worker goes to the next waiter', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 1, checkoutTimeoutMs: Number.POSITIVE_INFINITY });
    await pool.checkout();
    factory.hold = true;
    const controller = new AbortController();
    const aborted = outcomeOf(pool.checkout({ signal: controller.signal }));
    controller.abort(new Error('client went away'));
    expect(await settledYet(aborted)).toBe(true);
    expect(await aborted).toBe('ERR_POOL_ABORTED');
    const next = pool.checkout();
    expect(factory.held).toHaveLength(1);
    factory.held[0]!.succeed();
    expect((await next).worker.id).toBe(2);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 1, checkedOut: 2, waiting: 0 });
  });

  it('a creation that never settles holds no checkout past its timeout or its abort', async () => {
    const { pool, factory, clock } = await testPool({ size: 0, maxOverflow: 2 });
    factory.hold = true;
    const controller = new AbortController();
    const timed = outcomeOf(pool.checkout({ timeoutMs: 50 }));
    const aborted = outcomeOf(pool.checkout({ signal: controller.signal, timeoutMs: Number.POSITIVE_INFINITY }));
    controller.abort();
    clock.advance(50);
    expect([await timed, await aborted]).toEqual(['ERR_POOL_TIMEOUT', 'ERR_POOL_ABORTED']);
    expect(clock.pendingTimers()).toBe(0);
    // The two creations are still open and hold the overflow room; a stop lets go of them.
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 2, checkedOut: 0, waiting: 0 });
    await pool.stop();
    for (const creation of factory.held) creation.succeed();
    await flush();
    expect(factory.destroyed).toHaveLength(2);
  });
});

describe('a non-blocking checkout', () => {
  it('is served while overflow room is left, even while the only worker is being replaced', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 2 });
    const lease = await pool.checkout();
    factory.hold = true;
    lease.destroy('broken');
    const checkouts = [1, 2, 3, 4].map(() => outcomeOf(pool.checkout({ block: false })));
    expect(await checkouts[3]).toBe('ERR_POOL_FULL');
    for (const creation of factory.held) creation.succeed();
    const served = (await Promise.all(checkouts.slice(0, 3))) as Array<Lease<TestWorker>>;
    expect(served.map((each) => each.worker.id).sort()).toEqual([2, 3, 4]);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 2, checkedOut: 3, waiting: 0 });
  });
});
