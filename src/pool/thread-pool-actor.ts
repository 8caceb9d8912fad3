import type { AnyActorRef } from 'xstate';
import { failComponentActor, finishComponentActor, startComponentActor, type ComponentActorHooks } from '../supervisor/internal.js';
import type { PoolSnapshot } from './pool-actor.js';

/** The snapshot of a thread pool's actor; `context.pool` is the pool object, as for every pool. */
export type ThreadPoolSnapshot = PoolSnapshot;

/**
 * A thread pool as an XState actor. Like every pool's actor (`pool-actor.ts`) it takes part in
 * graceful shutdown and reaches its final state once the pool has stopped; it can also fail: a
 * pool whose threads cannot start ends its actor with an error (status `'error'`), which a
 * supervisor sees as an `'error'` exit and restarts per its intensity.
 */
export function startThreadPoolActor(name: string, pool: unknown, hooks: ComponentActorHooks): AnyActorRef {
  return startComponentActor(`pool:${name}`, { name, pool, kind: 'pool' as const }, hooks);
}

/** The pool has stopped: its actor reaches its final state, unless it already ended. */
export function finishThreadPoolActor(ref: AnyActorRef): void {
  finishComponentActor(ref);
}

/** The pool failed: its actor ends with `error` (an `'error'` exit for a supervisor), unless it already ended. */
export function failThreadPoolActor(ref: AnyActorRef, error: unknown): void {
  failComponentActor(ref, error);
}
