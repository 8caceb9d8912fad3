import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/index.js';
import { testPool } from '../../support/pool.js';

describe('pool reconfigure (hot reload)', () => {
  it('a larger size creates base workers and serves waiters', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 0 });
    await pool.checkout();
    const waiting = pool.checkout();
    pool.reconfigure({ size: 3 });
    await waiting;
    expect(factory.created).toBe(3);
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 2, waiting: 0 });
  });

  it('a larger size turns overflow workers into base workers', async () => {
    const { pool, factory } = await testPool({ size: 1, maxOverflow: 2 });
    const leases = [await pool.checkout(), await pool.checkout(), await pool.checkout()];
    expect(pool.status().overflow).toBe(2);
    pool.reconfigure({ size: 3 });
    expect(factory.created).toBe(3);
    expect(pool.status()).toEqual({ state: 'overflow', idle: 0, overflow: 0, checkedOut: 3, waiting: 0 });
    for (const lease of leases) lease.release();
    expect(pool.status()).toEqual({ state: 'ready', idle: 3, overflow: 0, checkedOut: 0, waiting: 0 });
  });

  it('a smaller size dismisses idle workers and lets checked-out ones leave as overflow, revoking no lease', async () => {
    const { pool, factory } = await testPool({ size: 4, maxOverflow: 0 });
    const leases = [await pool.checkout(), await pool.checkout(), await pool.checkout()];
    pool.reconfigure({ size: 1 });
    expect(factory.destroyed).toHaveLength(1);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 2, checkedOut: 3, waiting: 0 });
    expect(leases.every((lease) => !lease.worker.destroyed)).toBe(true);
    for (const lease of leases) lease.release();
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    expect(factory.destroyed).toHaveLength(3);
  });

  it('a larger maxOverflow serves waiters at once', async () => {
    const { pool } = await testPool({ size: 1, maxOverflow: 0 });
    await pool.checkout();
    const waiting = pool.checkout();
    pool.reconfigure({ maxOverflow: 1 });
    await waiting;
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 1, checkedOut: 2, waiting: 0 });
  });

  it('rejects an invalid patch whole and changes nothing', async () => {
    const { pool } = await testPool({ size: 2, maxOverflow: 1 });
    expect(() => pool.reconfigure({ size: 5, maxOverflow: -1 })).toThrow(ConfigError);
    expect(() => pool.reconfigure({ name: 'x' } as never)).toThrow(ConfigError);
    expect(pool.status()).toEqual({ state: 'ready', idle: 2, overflow: 0, checkedOut: 0, waiting: 0 });
  });
});
