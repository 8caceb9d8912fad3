import { createActor, createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createPool, createTestClock, startDynamicSupervisor, startSupervisor } from '../../src/index.js';

// ../shared/API.md, "Conventions that hold everywhere": Lease has [Symbol.dispose] (release);
// supervisors, pools, limiters, infrastructure, leases and observers have [Symbol.asyncDispose]
// (stop), so `await using` ends them with their scope.

const idle = createMachine({ id: 'idle', initial: 'running', states: { running: {} } });

describe('await using stops what it holds when the scope ends', () => {
  it('a supervisor', async () => {
    let exited: Promise<'normal' | 'shutdown'> | undefined;
    {
      await using supervisor = await startSupervisor(
        { children: [{ id: 'a', start: () => createActor(idle), shutdown: 'brutal_kill' }] },
        { clock: createTestClock() },
      );
      exited = supervisor.exited;
      expect(supervisor.countChildren().active).toBe(1);
    }
    await expect(exited).resolves.toBe('normal');
  });

  it('a dynamic supervisor', async () => {
    let exited: Promise<'normal' | 'shutdown'> | undefined;
    {
      await using supervisor = await startDynamicSupervisor({ clock: createTestClock() });
      exited = supervisor.exited;
    }
    await expect(exited).resolves.toBe('normal');
  });

  it('a pool, and a lease released by using', async () => {
    const destroyed: number[] = [];
    let created = 0;
    let pool: Awaited<ReturnType<typeof createPool<{ id: number }>>> | undefined;
    {
      await using held = await createPool({
        name: 'disposable',
        size: 1,
        maxOverflow: 0,
        clock: createTestClock(),
        worker: { create: () => ({ id: ++created }), destroy: (worker) => void destroyed.push(worker.id) },
      });
      pool = held;
      {
        using lease = await held.checkout();
        expect(lease.worker.id).toBe(1);
        expect(held.status().checkedOut).toBe(1);
      }
      expect(held.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    }
    expect(destroyed).toEqual([1]);
    expect(pool.status()).toEqual({ state: 'full', idle: 0, overflow: 0, checkedOut: 0, waiting: 0 });
  });
});
