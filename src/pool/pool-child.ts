import type { ChildSpec, StartContext } from '../supervisor/index.js';
import { splitChildOptions } from '../supervisor/internal.js';
import { resolvePoolOptions, type PoolOptions } from './options.js';
import { ResourcePool, type Pool, type PoolReconfiguration } from './resource-pool.js';

/** The child spec {@link poolChild} returns: its id is the pool's name. */
export type PoolChildSpec<W> = ChildSpec & {
  /** The pool's name (`options.name`). */
  id: string;
  /** The pool of the current run of the child; a restart creates a new pool. */
  readonly pool: Pool<W> | undefined;
  /** Changes the options live (see `Pool.reconfigure`) and for every later restart; throws `ConfigError` and changes nothing on a bad patch. */
  reconfigure(patch: PoolReconfiguration): void;
};

/**
 * A child spec that runs a pool under a supervisor, with the supervisor's clock and telemetry
 * unless the options give their own. The pool takes part in graceful shutdown: asked to stop, it
 * refuses new checkouts, rejects waiters, waits for checked-out workers to come back (within the
 * child's `shutdown` time) and destroys every worker; stopped outright it destroys them at once.
 *
 * @example
 * ```ts
 * const db = poolChild({ name: 'db', size: 10, worker: { create: connect, destroy: (c) => c.end() }, shutdown: 10_000 });
 * await startSupervisor({ children: [db] });
 * await db.pool!.transaction((client) => client.query('select 1'));
 * ```
 */
export function poolChild<W>(options: PoolOptions<W> & Omit<ChildSpec, 'id' | 'start'>): PoolChildSpec<W> {
  const { child, own: given } = splitChildOptions(options);
  resolvePoolOptions<W>(given);
  let poolOptions: PoolOptions<W> = given;
  let pool: ResourcePool<W> | undefined;
  return {
    id: poolOptions.name,
    ...child,
    start: async (context: StartContext) => {
      const next = new ResourcePool<W>({
        ...poolOptions,
        clock: poolOptions.clock ?? context.clock,
        telemetry: poolOptions.telemetry ?? context.telemetry,
      });
      await next.start();
      pool = next;
      return next.actor;
    },
    get pool(): Pool<W> | undefined {
      return pool;
    },
    reconfigure(patch: PoolReconfiguration): void {
      const next = { ...poolOptions, ...patch };
      resolvePoolOptions<W>(next);
      pool?.reconfigure(patch);
      poolOptions = next;
    },
  };
}
