import { describe, expect, it } from 'vitest';
import { PoolFullError, PoolTimeoutError, type Lease } from '../../../src/pool/index.js';
import { settledYet, testPool, type TestWorker } from '../../support/pool.js';

const checkoutMany = async (pool: { checkout(): Promise<Lease<TestWorker>> }, count: number) => {
  const leases: Lease<TestWorker>[] = [];
  for (let index = 0; index < count; index += 1) leases.push(await pool.checkout());
  return leases;
};

describe('pool startup', () => {
  it('creates size workers, all idle', async () => {
    const { pool, factory } = await testPool({ size: 10, maxOverflow: 5 });
    expect(factory.created).toBe(10);
    expect(pool.status()).toEqual({ state: 'ready', idle: 10, overflow: 0, checkedOut: 0, waiting: 0 });
  });
});

describe('basic checkout and checkin', () => {
  it('hands out idle workers and takes them back', async () => {
    const { pool } = await testPool({ size: 2, maxOverflow: 0 });
    const lease = await pool.checkout();
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 1 });
    lease.release();
    expect(pool.status()).toMatchObject({ idle: 2, checkedOut: 0 });
  });

  it('ignores a second release and a release after destroy', async () => {
    const { pool, factory } = await testPool({ size: 2, maxOverflow: 0 });
    const first = await pool.checkout();
    first.release();
    first.release();
    expect(pool.status()).toMatchObject({ idle: 2, checkedOut: 0 });
    const second = await pool.checkout();
    second.destroy();
    second.release();
    second.destroy();
    expect(pool.status()).toMatchObject({ idle: 2, checkedOut: 0 });
    expect(factory.created).toBe(3);
  });
});

describe('overflow', () => {
  it('creates overflow workers beyond size and dismisses them first on checkin', async () => {
    const { pool, factory } = await testPool({ size: 5, maxOverflow: 5 });
    const leases = await checkoutMany(pool, 7);
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 2, checkedOut: 7, waiting: 0 });
    leases[0]!.release();
    leases[1]!.release();
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 0, checkedOut: 5, waiting: 0 });
    expect(factory.destroyed).toHaveLength(2);
    leases[2]!.release();
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 4, waiting: 0 });
  });
});

describe('empty pool', () => {
  it('with overflow: the next checkout blocks and a checkin serves it instead of dismissing', async () => {
    const { pool, factory } = await testPool({ size: 5, maxOverflow: 2 });
    const leases = await checkoutMany(pool, 7);
    expect(pool.status().state).toBe('full');
    const blocked = pool.checkout();
    expect(await settledYet(blocked)).toBe(false);
    expect(pool.status().waiting).toBe(1);
    leases[0]!.release();
    const lease = await blocked;
    expect(lease.worker).toBe(leases[0]!.worker);
    expect(factory.destroyed).toHaveLength(0);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 2, checkedOut: 7, waiting: 0 });
  });

  it('without overflow: the next checkout blocks until a checkin', async () => {
    const { pool } = await testPool({ size: 5, maxOverflow: 0 });
    const leases = await checkoutMany(pool, 5);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 0, checkedOut: 5, waiting: 0 });
    const blocked = pool.checkout();
    expect(await settledYet(blocked)).toBe(false);
    leases[3]!.release();
    expect((await blocked).worker).toBe(leases[3]!.worker);
  });

  it('serves waiters oldest first', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    const held = await pool.checkout();
    const order: string[] = [];
    const first = pool.checkout().then((lease) => (order.push('first'), lease));
    const second = pool.checkout().then((lease) => (order.push('second'), lease));
    held.release();
    (await first).release();
    await second;
    expect(order).toEqual(['first', 'second']);
  });
});

describe('non-blocking checkout', () => {
  it('rejects with PoolFullError when full, with or without overflow', async () => {
    for (const maxOverflow of [0, 2]) {
      const { pool } = await testPool({ size: 3, maxOverflow });
      await checkoutMany(pool, 3 + maxOverflow);
      const error = await pool.checkout({ block: false }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PoolFullError);
      expect(error).toMatchObject({ code: 'ERR_POOL_FULL' });
      expect(pool.status().waiting).toBe(0);
    }
  });

  it('succeeds while a worker is idle or overflow is left', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 1 });
    await pool.checkout({ block: false });
    await expect(pool.checkout({ block: false })).resolves.toBeDefined();
  });
});

describe('worker death', () => {
  it('an idle worker that dies is replaced', async () => {
    const { pool, factory } = await testPool({ size: 3, maxOverflow: 0 });
    const lease = await pool.checkout();
    const worker = lease.worker;
    lease.release();
    worker.die('crashed');
    expect(factory.created).toBe(4);
    expect(pool.status()).toEqual({ state: 'ready', idle: 3, overflow: 0, checkedOut: 0, waiting: 0 });
    const all = await Promise.all([pool.checkout(), pool.checkout(), pool.checkout()]);
    expect(all.map((each) => each.worker)).not.toContain(worker);
  });

  it('a checked-out worker that dies is replaced into the idle queue', async () => {
    const { pool, factory, events } = await testPool({ size: 5, maxOverflow: 2 });
    const lease = await pool.checkout();
    lease.worker.die('crashed');
    expect(factory.created).toBe(6);
    expect(pool.status()).toEqual({ state: 'ready', idle: 5, overflow: 0, checkedOut: 0, waiting: 0 });
    expect(events.filter((event) => event.name === 'pool.worker.exit').map((event) => event.metadata)).toEqual([
      { pool: 'test', reason: 'crashed' },
    ]);
    lease.release();
    expect(pool.status().idle).toBe(5);
  });

  it('while overflowing, a dead checked-out worker is not replaced', async () => {
    const { pool, factory } = await testPool({ size: 5, maxOverflow: 2 });
    const leases = await checkoutMany(pool, 7);
    leases[0]!.worker.die();
    expect(factory.created).toBe(7);
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 1, checkedOut: 6, waiting: 0 });
  });

  it('while full without overflow, a dead checked-out worker is replaced into idle', async () => {
    const { pool, factory } = await testPool({ size: 5, maxOverflow: 0 });
    const leases = await checkoutMany(pool, 5);
    leases[2]!.worker.die();
    expect(factory.created).toBe(6);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 4, waiting: 0 });
  });

  it('with a waiter, a dead checked-out worker is replaced and the new worker handed to the first waiter', async () => {
    const { pool, factory } = await testPool({ size: 2, maxOverflow: 1 });
    const leases = await checkoutMany(pool, 3);
    const waiting = pool.checkout();
    leases[1]!.destroy('broken');
    const lease = await waiting;
    expect(lease.worker.id).toBe(factory.created);
    expect(factory.destroyed).toContain(leases[1]!.worker);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 1, checkedOut: 3, waiting: 0 });
  });

  it('lease.destroy() destroys the worker and replaces it', async () => {
    const { pool, factory } = await testPool({ size: 2, maxOverflow: 0 });
    const lease = await pool.checkout();
    lease.destroy('bad state');
    expect(lease.worker.destroyed).toBe(true);
    expect(factory.created).toBe(3);
    expect(pool.status()).toMatchObject({ idle: 2, checkedOut: 0 });
  });
});

describe('transaction', () => {
  it('releases the worker when the function returns', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    expect(await pool.transaction((worker) => worker.id * 10)).toBe(10);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });

  it('releases the worker and passes an exception through unchanged', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    const error = new Error('inside');
    await expect(
      pool.transaction(async () => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });
});

describe('status in every state', () => {
  it('ready, overflow and full as poolboy reports them', async () => {
    const { pool } = await testPool({ size: 2, maxOverflow: 2 });
    expect(pool.status()).toEqual({ state: 'ready', idle: 2, overflow: 0, checkedOut: 0, waiting: 0 });
    const leases = await checkoutMany(pool, 2);
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 0, checkedOut: 2, waiting: 0 });
    leases.push(await pool.checkout());
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 1, checkedOut: 3, waiting: 0 });
    leases.push(await pool.checkout());
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 2, checkedOut: 4, waiting: 0 });
    void pool.checkout().catch(() => undefined);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 2, checkedOut: 4, waiting: 1 });
  });

  it('a pool without overflow is full once every worker is out', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    await pool.checkout();
    expect(pool.status().state).toBe('full');
  });
});

describe('lifo and fifo', () => {
  it('lifo hands out the most recently returned worker', async () => {
    const { pool } = await testPool({ size: 3, maxOverflow: 0, strategy: 'lifo' });
    const [a, b] = await checkoutMany(pool, 2);
    a!.release();
    b!.release();
    expect((await pool.checkout()).worker).toBe(b!.worker);
  });

  it('fifo hands out the longest idle worker', async () => {
    const { pool } = await testPool({ size: 3, maxOverflow: 0, strategy: 'fifo' });
    const [a, b, c] = await checkoutMany(pool, 3);
    b!.release();
    a!.release();
    c!.release();
    expect((await pool.checkout()).worker).toBe(b!.worker);
    expect((await pool.checkout()).worker).toBe(a!.worker);
  });
});

describe('cancelled checkouts', () => {
  it('a checkout that times out rejects with PoolTimeoutError and leaves no waiter', async () => {
    const { pool, clock, events } = await testPool({ size: 1, maxOverflow: 0, checkoutTimeoutMs: 100 });
    const held = await pool.checkout();
    const waiting = pool.checkout();
    clock.advance(99);
    expect(await settledYet(waiting)).toBe(false);
    clock.advance(1);
    const error = await waiting.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(pool.status().waiting).toBe(0);
    held.release();
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    expect(events.filter((event) => event.name === 'pool.checkout').map((event) => event.metadata.outcome)).toEqual(['ok', 'timeout']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an aborted checkout rejects, leaves no waiter and never gets a worker', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    const held = await pool.checkout();
    const controller = new AbortController();
    const waiting = pool.checkout({ signal: controller.signal });
    const other = pool.checkout();
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_POOL_ABORTED' });
    held.release();
    expect((await other).worker).toBe(held.worker);
    expect(pool.status()).toMatchObject({ waiting: 0, checkedOut: 1, idle: 0 });
  });

  it('a signal already aborted rejects at once', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    await pool.checkout();
    const controller = new AbortController();
    controller.abort();
    await expect(pool.checkout({ signal: controller.signal })).rejects.toMatchObject({ code: 'ERR_POOL_ABORTED' });
    expect(pool.status().waiting).toBe(0);
  });

  it('a worker handed over in the same tick as the abort is not leaked', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    const held = await pool.checkout();
    const controller = new AbortController();
    const waiting = pool.checkout({ signal: controller.signal });
    held.release();
    controller.abort();
    const lease = await waiting;
    lease.release();
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
  });
});

describe('tryCheckout', () => {
  it('hands out an idle worker synchronously, else nothing (no overflow, no wait)', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 2 });
    const lease = pool.tryCheckout();
    expect(lease?.worker.id).toBe(1);
    expect(pool.tryCheckout()).toBeUndefined();
    expect(pool.status()).toMatchObject({ idle: 0, overflow: 0, checkedOut: 1, waiting: 0 });
    lease!.release();
    expect(pool.tryCheckout()?.worker.id).toBe(1);
  });
});
