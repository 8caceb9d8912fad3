import { createActor, type ActorLogic, type AnyActorRef, type EventObject, type Snapshot } from 'xstate';
import { SHUTDOWN_EVENT } from '../supervisor/index.js';

/** What the pool's actor tells the pool behind it. */
export interface PoolActorHooks {
  /** A supervisor asked for a graceful stop: drain, then stop. */
  onShutdownRequested(): void;
  /** The actor was stopped outright: destroy everything at once. */
  onKilled(): void;
}

/** The snapshot of a pool's actor; `context.pool` is the pool object. */
export type PoolSnapshot = Snapshot<undefined> & {
  context: { name: string; pool: unknown };
  can(event: EventObject): boolean;
};

/** Sent by the pool to its own actor once it has stopped: the actor reaches its final state. */
const STOPPED_EVENT = 'overseer.pool.stopped';

function canHandle(event: EventObject): boolean {
  return event.type === SHUTDOWN_EVENT.type;
}

/**
 * A pool as an XState actor, so a supervisor can start, watch and stop it. The pool's
 * bookkeeping stays in plain structures; the actor takes part in graceful shutdown
 * (`overseer.shutdown`: no new checkouts, waiters rejected, checked-out workers awaited, then
 * every worker destroyed, then a final state) and, stopped outright, destroys every worker at once.
 */
export function startPoolActor(name: string, pool: unknown, hooks: PoolActorHooks): AnyActorRef {
  const logic: ActorLogic<PoolSnapshot, EventObject, undefined> = {
    transition(snapshot, event) {
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case 'xstate.stop':
          hooks.onKilled();
          return { ...snapshot, status: 'stopped', output: undefined, error: undefined };
        case SHUTDOWN_EVENT.type:
          hooks.onShutdownRequested();
          return snapshot;
        case STOPPED_EVENT:
          return { ...snapshot, status: 'done', output: undefined, error: undefined };
        default:
          return snapshot;
      }
    },
    getInitialSnapshot: () => ({
      status: 'active',
      output: undefined,
      error: undefined,
      context: { name, pool },
      can: canHandle,
    }),
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  const actor = createActor(logic, { id: `pool:${name}`, input: undefined });
  actor.start();
  return actor as unknown as AnyActorRef;
}
