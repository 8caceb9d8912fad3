import { describe, expect, it, vi } from 'vitest';
import { createPool } from '../../../src/pool/index.js';
import { ConfigError, createTelemetry, createTestClock, type TelemetryEvent } from '../../../src/index.js';
import { testPool, TestFactory, type TestWorker } from '../../support/pool.js';

const named = (events: TelemetryEvent[], name: string) => events.filter((event) => event.name === name);

describe('a lease used after its worker was handed out again', () => {
  it('a second release does not check in the worker the next lease holds', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    const first = await pool.checkout();
    first.release();
    const second = await pool.checkout();
    expect(second.worker).toBe(first.worker);
    first.release();
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 0, checkedOut: 1, waiting: 0 });
    second.release();
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
  });

  it('a destroy after release does not kill the worker the next lease holds', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 0 });
    const first = await pool.checkout();
    first.release();
    const second = await pool.checkout();
    first.destroy('late');
    expect(factory.destroyed).toEqual([]);
    expect(pool.status()).toMatchObject({ checkedOut: 1 });
    second.destroy();
    second.destroy();
    expect(factory.destroyed).toHaveLength(1);
  });

  it('destroy without a reason reports the exit as destroyed', async () => {
    const { pool, events } = await testPool({ size: 1, maxOverflow: 0 });
    const lease = await pool.checkout();
    lease.destroy();
    expect(named(events, 'pool.worker.exit').map((event) => event.metadata)).toEqual([{ pool: 'test', reason: 'destroyed' }]);
  });
});

describe('a worker that reports its death twice', () => {
  it('is counted dead once, checked out or idle', async () => {
    const { pool, factory, events } = await testPool({ size: 2, maxOverflow: 0 });
    const lease = await pool.checkout();
    const worker = lease.worker as TestWorker;
    worker.die('gone');
    worker.die('again');
    expect(pool.status()).toEqual({ state: 'ready', idle: 2, overflow: 0, checkedOut: 0, waiting: 0 });
    const idle = pool.tryCheckout()!;
    const idleWorker = idle.worker;
    idle.release();
    idleWorker.die('idle death');
    idleWorker.die('idle again');
    expect(pool.status()).toEqual({ state: 'ready', idle: 2, overflow: 0, checkedOut: 0, waiting: 0 });
    expect(named(events, 'pool.worker.exit').map((event) => event.metadata.reason)).toEqual(['gone', 'idle death']);
    expect(factory.destroyed).toHaveLength(2);
    expect(factory.created).toBe(4);
  });
});

describe('retry jitter', () => {
  async function retryDelay(draw: number): Promise<number> {
    const factory = new TestFactory();
    factory.failNext = 1;
    const { pool, clock } = await testPool({ size: 1, maxOverflow: 0, retryBackoffMs: 100, random: () => draw }, factory);
    expect(factory.calls).toBe(1);
    let elapsed = 0;
    while (factory.calls === 1 && elapsed < 1000) {
      clock.advance(1);
      elapsed += 1;
    }
    await pool.stop();
    return elapsed;
  }

  it('waits the drawn share of the ceiling, clamped to [0, 1], NaN as 1, at least 1 ms', async () => {
    expect(await retryDelay(0.5)).toBe(50);
    expect(await retryDelay(0)).toBe(1);
    expect(await retryDelay(1)).toBe(100);
    expect(await retryDelay(-0.5)).toBe(1);
    expect(await retryDelay(2)).toBe(100);
    expect(await retryDelay(Number.NaN)).toBe(100);
    expect(await retryDelay(Number.POSITIVE_INFINITY)).toBe(100);
    expect(await retryDelay(Number.NEGATIVE_INFINITY)).toBe(1);
  });
});

describe('checkout telemetry', () => {
  it('reports ok for tryCheckout, full for a refused non-blocking checkout, aborted and timeout for waiters, with the wait as duration', async () => {
    const { pool, clock, events } = await testPool({ size: 1, maxOverflow: 0 });
    const lease = pool.tryCheckout()!;
    expect(lease).toBeDefined();
    await expect(pool.checkout({ block: false })).rejects.toMatchObject({ code: 'ERR_POOL_FULL' });
    const controller = new AbortController();
    const aborted = pool.checkout({ signal: controller.signal, timeoutMs: 1000 }).catch((error: { code: string }) => error.code);
    clock.advance(7);
    controller.abort();
    expect(await aborted).toBe('ERR_POOL_ABORTED');
    const timedOut = pool.checkout({ timeoutMs: 20 }).catch((error: { code: string }) => error.code);
    clock.advance(20);
    expect(await timedOut).toBe('ERR_POOL_TIMEOUT');
    const served = pool.checkout({ timeoutMs: 100 });
    clock.advance(30);
    lease.release();
    await served;
    const checkouts = named(events, 'pool.checkout');
    expect(checkouts.map((event) => event.metadata)).toEqual([
      { pool: 'test', outcome: 'ok' },
      { pool: 'test', outcome: 'full' },
      { pool: 'test', outcome: 'aborted' },
      { pool: 'test', outcome: 'timeout' },
      { pool: 'test', outcome: 'ok' },
    ]);
    expect(checkouts.map((event) => event.measurements)).toEqual([
      { duration: 0, waiting: 0 },
      { duration: 0, waiting: 0 },
      { duration: 7, waiting: 0 },
      { duration: 20, waiting: 0 },
      { duration: 30, waiting: 0 },
    ]);
  });
});

describe('a waiter that is served', () => {
  it('stops listening to its signal', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    const lease = await pool.checkout();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const waiting = pool.checkout({ signal: controller.signal });
    lease.release();
    const served = await waiting;
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]![0]).toBe('abort');
    expect(remove.mock.calls[0]![1]).toBe(add.mock.calls[0]![1]);
    controller.abort();
    expect(pool.status()).toMatchObject({ checkedOut: 1, waiting: 0 });
    served.release();
  });
});

describe('worker destruction', () => {
  it('a factory without destroy reports no destroy failure', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => events.push(event));
    let id = 0;
    const pool = await createPool({ name: 'plain', size: 0, maxOverflow: 1, clock, telemetry, worker: { create: () => ({ id: (id += 1) }) } });
    const lease = await pool.checkout();
    lease.release();
    await pool.stop();
    expect(named(events, 'pool.worker.destroy_failed')).toEqual([]);
  });

  it('a destroy that throws or rejects is reported with its error', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => events.push(event));
    const thrown = new Error('sync destroy');
    const rejected = new Error('async destroy');
    let id = 0;
    const pool = await createPool({
      name: 'bad',
      size: 0,
      maxOverflow: 2,
      clock,
      telemetry,
      worker: {
        create: () => ({ id: (id += 1) }),
        destroy: (worker: { id: number }) => {
          if (worker.id === 1) throw thrown;
          return Promise.reject(rejected);
        },
      },
    });
    const first = await pool.checkout();
    const second = await pool.checkout();
    first.release();
    second.release();
    await pool.stop();
    expect(named(events, 'pool.worker.destroy_failed').map((event) => event.metadata)).toEqual([
      { pool: 'bad', error: thrown },
      { pool: 'bad', error: rejected },
    ]);
  });

  it('a retireOnRelease that throws undefined retires the worker with retire_failed', async () => {
    const factory = new TestFactory();
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => events.push(event));
    const pool = await createPool<TestWorker>({
      name: 'retire',
      size: 1,
      maxOverflow: 0,
      clock,
      telemetry,
      worker: {
        create: factory.create,
        destroy: factory.destroy,
        retireOnRelease: () => {
          throw undefined;
        },
      },
    });
    const lease = await pool.checkout();
    lease.release();
    expect(named(events, 'pool.worker.exit').map((event) => event.metadata)).toEqual([{ pool: 'retire', reason: 'retire_failed' }]);
    expect(factory.destroyed).toHaveLength(1);
  });
});

describe('reconfigure, transaction and stop arguments', () => {
  it('refuses a key that cannot change live, listing those that can', async () => {
    const { pool } = await testPool({ size: 1 });
    let error: unknown;
    try {
      pool.reconfigure({ name: 'other' } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('name');
    expect((error as ConfigError).message).toBe(
      "Invalid option name: expected one of size, maxOverflow, strategy, checkoutTimeoutMs, retryBackoffMs (cannot change live), got \"other\"",
    );
  });

  it('accepts every changeable key, retryBackoffMs included', async () => {
    const { pool } = await testPool({ size: 1 });
    expect(() => pool.reconfigure({ retryBackoffMs: 50, checkoutTimeoutMs: 10, strategy: 'fifo', size: 1, maxOverflow: 1 })).not.toThrow();
  });

  it('refuses a transaction without a function, saying what it takes', async () => {
    const { pool } = await testPool({ size: 1 });
    await expect(pool.transaction(5 as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'Invalid argument transaction.fn: expected a function (worker) => result, got 5',
    });
  });

  it('stop called twice returns the same promise', async () => {
    const { pool } = await testPool({ size: 1 });
    const first = pool.stop();
    expect(pool.stop()).toBe(first);
    await first;
  });
});

describe('the idle deque count follows the status', () => {
  const dequeCount = (pool: unknown) => (pool as { idle: { count: number } }).idle.count;

  it('through overflow dismissal, a smaller size, worker deaths and the stop', async () => {
    const { pool } = await testPool({ size: 3, maxOverflow: 2 });
    expect(dequeCount(pool)).toBe(3);
    const leases = [await pool.checkout(), await pool.checkout(), await pool.checkout(), await pool.checkout()];
    expect(pool.status()).toMatchObject({ overflow: 1, idle: 0 });
    // an overflow worker comes back and is dismissed: it never was in the deque
    leases.pop()!.release();
    expect(dequeCount(pool)).toBe(pool.status().idle);
    leases.pop()!.release();
    leases.pop()!.release();
    expect(pool.status().idle).toBe(2);
    expect(dequeCount(pool)).toBe(2);
    // a smaller size dismisses idle workers
    pool.reconfigure({ size: 2 });
    expect(pool.status().idle).toBe(1);
    expect(dequeCount(pool)).toBe(1);
    // a checked-out worker dies and is replaced into the deque
    (leases[0]!.worker as TestWorker).die('gone');
    expect(dequeCount(pool)).toBe(pool.status().idle);
    const out = await pool.checkout();
    await pool.stop();
    expect(dequeCount(pool)).toBe(0);
    out.release();
  });
});

describe('destroys in flight', () => {
  const pending = (pool: unknown) => (pool as { destroying: Set<unknown> }).destroying.size;

  it('a synchronous destroy leaves nothing pending, an async one is pending until it settles', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 0 });
    (await pool.checkout()).destroy('sync');
    expect(factory.destroyed).toHaveLength(1);
    expect(pending(pool)).toBe(0);
    await pool.stop();

    let finish: (() => void) | undefined;
    const clock = createTestClock();
    const asyncPool = await createPool<{ id: number }>({
      name: 'async',
      size: 1,
      maxOverflow: 0,
      clock,
      telemetry: createTelemetry({ clock }),
      worker: {
        create: () => ({ id: 1 }),
        // the first destroy is held open until the spec finishes it; the rest settle at once
        destroy: () => (finish === undefined ? new Promise<void>((resolve) => (finish = resolve)) : Promise.resolve()),
      },
    });
    (await asyncPool.checkout()).destroy('async');
    expect(pending(asyncPool)).toBe(1);
    finish!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(pending(asyncPool)).toBe(0);
    await asyncPool.stop();
  });
});
