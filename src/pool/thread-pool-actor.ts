import { createActor, type ActorLogic, type AnyActorRef, type EventObject, type Snapshot } from 'xstate';
import { SHUTDOWN_EVENT, type ComponentActorHooks } from '../supervisor/index.js';

/** The snapshot of a thread pool's actor; `context.pool` is the pool object, as for every pool. */
export type ThreadPoolSnapshot = Snapshot<undefined> & {
  context: { name: string; pool: unknown; kind: 'pool' };
  /** A thread pool always takes part in graceful shutdown (see `SHUTDOWN_EVENT`). */
  can(event: EventObject): boolean;
};

const FINISHED_EVENT = 'overseer.thread_pool.finished';
const FAILED_EVENT = 'overseer.thread_pool.failed';

function canShutDown(event: EventObject): boolean {
  return event.type === SHUTDOWN_EVENT.type;
}

const ignore = (): void => undefined;

/**
 * A thread pool as an XState actor. Like every pool's actor (`pool-actor.ts`) it takes part in
 * graceful shutdown and reaches its final state once the pool has stopped; unlike it, it can also
 * fail: a pool whose threads cannot start ends its actor with an error (status `'error'`), which a
 * supervisor sees as an `'error'` exit and restarts per its intensity. (The shared component
 * actor of src/supervisor has no failed end; this is that actor with one more event.)
 *
 * The pool observes its own actor's errors, so that a pool run without a supervisor does not make
 * XState report the failure as an unhandled error (thrown from a timer, it would end the process).
 */
export function startThreadPoolActor(name: string, pool: unknown, hooks: ComponentActorHooks): AnyActorRef {
  const logic: ActorLogic<ThreadPoolSnapshot, EventObject, undefined> = {
    transition(snapshot, event) {
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case 'xstate.stop':
          hooks.onKilled();
          return { ...snapshot, status: 'stopped', output: undefined, error: undefined };
        case SHUTDOWN_EVENT.type:
          hooks.onShutdownRequested();
          return snapshot;
        case FINISHED_EVENT:
          return { ...snapshot, status: 'done', output: undefined, error: undefined };
        case FAILED_EVENT:
          return { ...snapshot, status: 'error', output: undefined, error: (event as unknown as { error: unknown }).error };
        default:
          return snapshot;
      }
    },
    getInitialSnapshot: () => ({
      status: 'active',
      output: undefined,
      error: undefined,
      context: { name, pool, kind: 'pool' as const },
      can: canShutDown,
    }),
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  const actor = createActor(logic, { id: `pool:${name}`, input: undefined });
  actor.subscribe({ error: ignore });
  actor.start();
  return actor as unknown as AnyActorRef;
}

/** The pool has stopped: its actor reaches its final state, unless it already ended. */
export function finishThreadPoolActor(ref: AnyActorRef): void {
  if ((ref.getSnapshot() as { status: string }).status === 'active') ref.send({ type: FINISHED_EVENT });
}

/** The pool failed: its actor ends with `error` (an `'error'` exit for a supervisor), unless it already ended. */
export function failThreadPoolActor(ref: AnyActorRef, error: unknown): void {
  if ((ref.getSnapshot() as { status: string }).status === 'active') ref.send({ type: FAILED_EVENT, error } as EventObject);
}
