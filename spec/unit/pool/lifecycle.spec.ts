import { describe, expect, it } from 'vitest';
import { createPool, isWorkerExitedError, poolChild, PoolStoppedError } from '../../../src/pool/index.js';
import { isOverseerError, startSupervisor } from '../../../src/index.js';
import { flush, recordTelemetry } from '../../support/supervision.js';
import { settledYet, TestFactory, testPool, type TestWorker } from '../../support/pool.js';

describe('factory failures', () => {
  it('an overflow creation that throws fails only the checkout that needed it', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 1 });
    await pool.checkout();
    factory.failNext = 1;
    await expect(pool.checkout()).rejects.toThrow('factory failed');
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 0, checkedOut: 1, waiting: 0 });
    await expect(pool.checkout()).resolves.toBeDefined();
  });

  it('a replacement that fails goes to the first waiter as its error and is retried with backoff', async () => {
    const factory = new TestFactory();
    // random() = 1: each retry waits its whole backoff ceiling (100, then 200).
    const { pool, clock } = await testPool({ size: 1, maxOverflow: 0, retryBackoffMs: 100, random: () => 1 }, factory);
    const lease = await pool.checkout();
    const waiting = pool.checkout();
    factory.failNext = 2;
    lease.destroy('broken');
    await expect(waiting).rejects.toThrow('factory failed');
    expect(pool.status().idle).toBe(0);
    clock.advance(100);
    expect(factory.created).toBe(1);
    expect(pool.status().idle).toBe(0);
    clock.advance(199);
    expect(pool.status().idle).toBe(0);
    clock.advance(1);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    expect(factory.created).toBe(2);
  });

  it('base workers that fail at start are retried instead of failing the start', async () => {
    const factory = new TestFactory();
    factory.failNext = 2;
    const { pool, clock } = await testPool({ size: 3, maxOverflow: 0, retryBackoffMs: 50, random: () => 1 }, factory);
    expect(pool.status().idle).toBe(1);
    // Both failed in a row: ceilings 50 and 100.
    clock.advance(50);
    expect(pool.status().idle).toBe(2);
    clock.advance(50);
    expect(pool.status().idle).toBe(3);
  });

  it('an async factory that rejects never crashes the pool', async () => {
    const factory = new TestFactory();
    factory.async = true;
    const { pool } = await testPool({ size: 1, maxOverflow: 1 }, factory);
    await pool.checkout();
    factory.failNext = 1;
    await expect(pool.checkout()).rejects.toThrow('factory failed');
    const lease = await pool.checkout();
    expect(lease.worker.id).toBe(2);
  });
});

describe('a worker that exits while being created', () => {
  it('fails the creation and leaves the counters untouched', async () => {
    const pool = await createPool<object>({
      name: 'flaky-connect',
      size: 0,
      maxOverflow: 1,
      worker: {
        create: async (context) => {
          context.exit(new Error('connection refused'));
          throw new Error('connect failed');
        },
      },
    });
    await expect(pool.checkout()).rejects.toThrow('connect failed');
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 0, checkedOut: 0, waiting: 0 });
  });

  it('its checkout is rejected with a WorkerExitedError (an overseer error) whose cause is the reason it exited with', async () => {
    const reason = new Error('connection reset while opening');
    const pool = await createPool<object>({
      name: 'exits-then-returns',
      size: 0,
      maxOverflow: 1,
      worker: {
        create: async (context) => {
          context.exit(reason);
          return {};
        },
      },
    });
    const error = await pool.checkout().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isOverseerError(error), String(error)).toBe(true);
    expect(isWorkerExitedError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_WORKER_EXITED', pool: 'exits-then-returns', cause: reason });
    // A worker that exits without a reason still names the creation that failed.
    const silent = await createPool<object>({
      name: 'exits-silently',
      size: 0,
      maxOverflow: 1,
      worker: {
        create: (context) => {
          context.exit();
          return {};
        },
      },
    });
    await expect(silent.checkout()).rejects.toMatchObject({ code: 'ERR_WORKER_EXITED', cause: 'exit' });
    await Promise.all([pool.stop(), silent.stop()]);
  });

  it('is destroyed when its factory returns it anyway', async () => {
    const destroyed: object[] = [];
    const pool = await createPool<object>({
      name: 'exits-then-returns',
      size: 0,
      maxOverflow: 1,
      worker: {
        create: (context) => {
          const worker = {};
          context.exit('gone');
          return worker;
        },
        destroy: (worker) => void destroyed.push(worker),
      },
    });
    await expect(pool.checkout()).rejects.toThrow('exited while it was being created');
    expect(destroyed).toHaveLength(1);
    expect(pool.status()).toMatchObject({ overflow: 0, checkedOut: 0 });
  });
});

describe('async factory', () => {
  it('serves a waiter with a replacement created asynchronously', async () => {
    const factory = new TestFactory();
    factory.async = true;
    const { pool } = await testPool({ size: 1, maxOverflow: 0 }, factory);
    const lease = await pool.checkout();
    const waiting = pool.checkout();
    lease.worker.die();
    expect((await waiting).worker.id).toBe(2);
  });
});

describe('stop', () => {
  it('destroys every worker and rejects every waiter with PoolStoppedError', async () => {
    const { pool, factory } = await testPool({ size: 2, maxOverflow: 0 });
    const out = await pool.checkout();
    await pool.checkout();
    const waiting = pool.checkout();
    await pool.stop();
    await expect(waiting).rejects.toBeInstanceOf(PoolStoppedError);
    expect(factory.destroyed).toHaveLength(2);
    await expect(pool.checkout()).rejects.toMatchObject({ code: 'ERR_POOL_STOPPED' });
    out.release();
    expect(pool.status()).toMatchObject({ idle: 0, checkedOut: 0 });
    expect(pool.actor.getSnapshot().status).toBe('done');
  });

  it('waits for asynchronous destroys', async () => {
    let finish!: () => void;
    const pool = await createPool<object>({
      name: 'slow',
      size: 1,
      worker: { create: () => ({}), destroy: () => new Promise<void>((resolve) => (finish = resolve)) },
    });
    const stopping = pool.stop();
    expect(await settledYet(stopping)).toBe(false);
    finish();
    await stopping;
  });
});

describe('after stop', () => {
  const stopped = { state: 'full', idle: 0, overflow: 0, checkedOut: 0, waiting: 0 };

  it('status reports nothing idle, out, overflowing or waiting, whatever the pool held', async () => {
    const { pool } = await testPool({ size: 3, maxOverflow: 0 });
    await pool.stop();
    expect(pool.status()).toEqual(stopped);
  });

  it('status stays at zero when leases come back and creations land after the stop', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 2 });
    const leases = [await pool.checkout(), await pool.checkout()];
    factory.hold = true;
    const late = pool.checkout().catch((error: { code: string }) => error.code);
    await pool.stop();
    for (const lease of leases) lease.release();
    leases[0]!.destroy();
    factory.held[0]!.succeed();
    await flush();
    expect(pool.status()).toEqual(stopped);
    expect(await late).toBe('ERR_POOL_STOPPED');
    expect(factory.destroyed).toHaveLength(3);
  });

  it('stop cancels the retry of a failed base creation', async () => {
    const factory = new TestFactory();
    factory.failNext = 1;
    const { pool, clock } = await testPool({ size: 1, maxOverflow: 0, retryBackoffMs: 100 }, factory);
    expect(clock.pendingTimers()).toBe(1);
    await pool.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(60_000);
    expect(factory.calls).toBe(1);
  });
});

describe('retrying a failed base creation', () => {
  it('waits a random part of the doubling backoff (full jitter), drawn from the injected random source', async () => {
    const factory = new TestFactory();
    factory.failNext = 3;
    const draws = [0.5, 0.25, 0.5];
    const { pool, clock } = await testPool({ size: 1, maxOverflow: 0, retryBackoffMs: 100, random: () => draws.shift()! }, factory);
    // Ceilings 100, 200, 400: waits 50, then 50, then 200.
    clock.advance(49);
    expect(factory.calls).toBe(1);
    clock.advance(1);
    expect(factory.calls).toBe(2);
    clock.advance(49);
    expect(factory.calls).toBe(2);
    clock.advance(1);
    expect(factory.calls).toBe(3);
    clock.advance(199);
    expect(factory.calls).toBe(3);
    clock.advance(1);
    expect(factory.calls).toBe(4);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
  });

  it('pools that share a failing database do not retry in lockstep', async () => {
    const retriesAt = async (draw: number): Promise<number> => {
      const factory = new TestFactory();
      factory.failNext = 1;
      const { clock } = await testPool({ size: 1, maxOverflow: 0, retryBackoffMs: 1000, random: () => draw }, factory);
      for (let elapsed = 0; elapsed <= 1000; elapsed += 1) {
        if (factory.calls > 1) return elapsed;
        clock.advance(1);
      }
      return Number.POSITIVE_INFINITY;
    };
    expect(await Promise.all([0.1, 0.6, 0.9].map(retriesAt))).toEqual([100, 600, 900]);
  });
});

describe('as a supervised child', () => {
  it('drains on graceful shutdown: waits for checked-out workers, then destroys them all', async () => {
    const { clock, telemetry } = recordTelemetry();
    const factory = new TestFactory();
    const spec = poolChild<TestWorker>({ name: 'db', size: 2, maxOverflow: 0, worker: factory, shutdown: 1000 });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    const pool = spec.pool!;
    const lease = await pool.checkout();
    let stopped = false;
    const stopping = supervisor.stop().then(() => (stopped = true));
    await flush();
    await expect(pool.checkout()).rejects.toMatchObject({ code: 'ERR_POOL_STOPPED' });
    expect(stopped).toBe(false);
    lease.release();
    await stopping;
    expect(factory.destroyed).toHaveLength(2);
    expect(pool.actor.getSnapshot().status).toBe('done');
  });

  it('is stopped outright when it does not drain within its shutdown time', async () => {
    const { clock, telemetry } = recordTelemetry();
    const factory = new TestFactory();
    const spec = poolChild<TestWorker>({ name: 'db', size: 1, maxOverflow: 0, worker: factory, shutdown: 500 });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    await spec.pool!.checkout();
    const stopping = supervisor.stop();
    await flush();
    clock.advance(500);
    await stopping;
    expect(factory.destroyed).toHaveLength(1);
  });

  it('uses the supervisor clock for checkout timeouts', async () => {
    const { clock, telemetry } = recordTelemetry();
    const spec = poolChild<TestWorker>({ name: 'db', size: 1, maxOverflow: 0, worker: new TestFactory(), checkoutTimeoutMs: 100 });
    await startSupervisor({ children: [spec] }, { clock, telemetry });
    await spec.pool!.checkout();
    const waiting = spec.pool!.checkout();
    clock.advance(100);
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_POOL_TIMEOUT' });
  });
});

describe('long-lived pools', () => {
  it('keeps no dead idle workers around under lifo', async () => {
    const { pool, factory } = await testPool({ size: 4, maxOverflow: 0, strategy: 'lifo' });
    for (let round = 0; round < 1000; round += 1) {
      const leases = [await pool.checkout(), await pool.checkout()];
      for (const lease of leases) lease.release();
      const idle = await pool.checkout();
      idle.release();
      factory.destroyed.length = 0;
      // The worker at the bottom of the lifo stack dies while idle.
      const all = [await pool.checkout(), await pool.checkout(), await pool.checkout(), await pool.checkout()];
      const bottom = all[3]!.worker;
      for (const lease of all.reverse()) lease.release();
      bottom.die('idle connection closed');
    }
    const deque = (pool as unknown as { idle: { length: number; count: number } }).idle;
    expect(deque.count).toBe(4);
    expect(deque.length).toBeLessThanOrEqual(4 + 16);
    expect(pool.status()).toMatchObject({ idle: 4, checkedOut: 0 });
  });

  it('waits for ever with timeoutMs Infinity and never fires a too-long timer early', async () => {
    const { pool, clock } = await testPool({ size: 1, maxOverflow: 0, checkoutTimeoutMs: Number.POSITIVE_INFINITY });
    const held = await pool.checkout();
    const forever = pool.checkout();
    const long = pool.checkout({ timeoutMs: 2 ** 40 });
    clock.advance(2 ** 31);
    expect(await settledYet(forever)).toBe(false);
    expect(await settledYet(long)).toBe(false);
    held.release();
    await forever;
    await expect(pool.checkout({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'ERR_CONFIG', option: 'timeoutMs' });
  });
});
