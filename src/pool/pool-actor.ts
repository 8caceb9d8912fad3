import type { AnyActorRef } from 'xstate';
import { finishComponentActor, startComponentActor, type ComponentActorHooks, type ComponentSnapshot } from '../supervisor/internal.js';

/** What the pool's actor tells the pool behind it. */
export type PoolActorHooks = ComponentActorHooks;

/** The snapshot of a pool's actor (`pool.actor.getSnapshot()`): `context.pool` is the pool object, `context.name` its name. */
export type PoolSnapshot = ComponentSnapshot<
  {
    /** The pool's name. */
    name: string;
    /** The pool object (a `Pool`). */
    pool: unknown;
    /** Tells a pool's actor from other components' (`'supervisor'`). */
    kind: 'pool';
  },
  undefined
>;

/**
 * A pool as an XState actor, so a supervisor can start, watch and stop it. The pool's
 * bookkeeping stays in plain structures; the actor takes part in graceful shutdown
 * (`overseer.shutdown`: no new work, waiters rejected, work in flight awaited, then every worker
 * destroyed, then a final state) and, stopped outright, destroys every worker at once.
 */
export function startPoolActor(name: string, pool: unknown, hooks: PoolActorHooks): AnyActorRef {
  return startComponentActor(`pool:${name}`, { name, pool, kind: 'pool' as const }, hooks);
}

/** The pool has stopped: its actor reaches its final state. */
export function finishPoolActor(ref: AnyActorRef): void {
  finishComponentActor(ref);
}
