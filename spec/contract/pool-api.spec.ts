import { describe, expect, expectTypeOf, it } from 'vitest';
import * as overseer from '../../src/index.js';
import type { ChildSpec, Lease, Pool, PoolOptions, PoolStatus, WorkerContext } from '../../src/index.js';

describe('contract: Pool', () => {
  it('exports createPool, poolChild, PoolFullError and PoolTimeoutError', () => {
    expect(typeof overseer.createPool).toBe('function');
    expect(typeof overseer.poolChild).toBe('function');
    expect(new overseer.PoolFullError('p')).toMatchObject({ code: 'ERR_POOL_FULL' });
    expect(new overseer.PoolTimeoutError('p', 5)).toMatchObject({ code: 'ERR_POOL_TIMEOUT' });
    expect(new overseer.PoolFullError('p')).toBeInstanceOf(Error);
  });

  it('a pool has name, actor, checkout, transaction, status and stop; status has the contract shape', async () => {
    const pool = await overseer.createPool({ name: 'shape', size: 1, worker: { create: () => ({ n: 1 }) } });
    expect(pool.name).toBe('shape');
    expect(typeof pool.actor.send).toBe('function');
    expect(Object.keys(pool.status()).sort()).toEqual(['checkedOut', 'idle', 'overflow', 'state', 'waiting']);
    const lease = await pool.checkout();
    expect(lease.worker).toEqual({ n: 1 });
    expect(typeof lease.release).toBe('function');
    expect(typeof lease.destroy).toBe('function');
    lease.release();
    await pool.stop();
    expectTypeOf(pool).toEqualTypeOf<Pool<{ n: number }>>();
    expectTypeOf<PoolStatus['state']>().toEqualTypeOf<'ready' | 'overflow' | 'full'>();
    expectTypeOf<Lease<number>['worker']>().toEqualTypeOf<number>();
    expectTypeOf<WorkerContext['exit']>().toEqualTypeOf<(reason?: unknown) => void>();
    expectTypeOf<PoolOptions<number>>().toHaveProperty('strategy').toEqualTypeOf<'lifo' | 'fifo' | undefined>();
  });

  it('poolChild returns a ChildSpec named by the pool', () => {
    const spec = overseer.poolChild({ name: 'db', worker: { create: () => 1 } });
    expect(spec.id).toBe('db');
    expectTypeOf(spec).toMatchTypeOf<ChildSpec & { id: string }>();
  });
});
