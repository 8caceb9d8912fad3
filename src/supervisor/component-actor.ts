import { createActor, type ActorLogic, type AnyActorRef, type EventObject, type Snapshot } from 'xstate';
import { SHUTDOWN_EVENT } from './shutdown-protocol.js';

/** What a component's actor tells the component behind it. */
export interface ComponentActorHooks {
  /** A supervisor asked for a graceful stop (`overseer.shutdown`). */
  onShutdownRequested(): void;
  /** The actor was stopped outright: the component must let go of everything at once. */
  onKilled(): void;
}

/**
 * The snapshot of the actor of a component overseer keeps in plain structures (a supervisor, a
 * pool): XState's `Snapshot` (its `status`, and `output` once done) with a `context` naming the
 * component. `SupervisorSnapshot` and `PoolSnapshot` are its instances; read them to tell what a
 * supervised child's `ref` stands for.
 */
export type ComponentSnapshot<TContext, TOutput> = Snapshot<TOutput> & {
  /** What the component is: its kind, its name or id, and the object behind the actor. */
  context: TContext;
  /** A component always takes part in graceful shutdown (see `SHUTDOWN_EVENT`). */
  can(event: EventObject): boolean;
};

/** The internal events by which a component ends its actor: in a final state, or failed. */
const FINISHED_EVENT = 'overseer.component.finished';
const FAILED_EVENT = 'overseer.component.failed';

const ignore = (): void => undefined;

/** Answers `can(SHUTDOWN_EVENT)` for every component actor; also how `isComponentSnapshot` recognises one. */
function canShutDown(event: EventObject): boolean {
  return event.type === SHUTDOWN_EVENT.type;
}

/**
 * Starts the actor face of a component whose state lives in plain structures (a supervisor, a
 * pool): a parent supervisor starts, watches and stops it like any child. It takes part in
 * graceful shutdown, tells the component when it is asked to stop or is stopped outright, reaches
 * its final state when the component calls {@link finishComponentActor}, and fails (status
 * `'error'`, an `'error'` exit for a supervisor) when it calls {@link failComponentActor}.
 *
 * The actor observes its own errors, so that a component run without a supervisor does not make
 * XState report its failure as an unhandled error (thrown from a timer, it would end the process).
 */
export function startComponentActor<TContext, TOutput>(id: string, context: TContext, hooks: ComponentActorHooks): AnyActorRef {
  const logic: ActorLogic<ComponentSnapshot<TContext, TOutput>, EventObject, undefined> = {
    transition(snapshot, event) {
      // Stryker disable next-line ConditionalExpression: XState delivers no event to an actor that has ended, so this guard never decides anything
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case 'xstate.stop':
          hooks.onKilled();
          return { ...snapshot, status: 'stopped', output: undefined, error: undefined };
        case SHUTDOWN_EVENT.type:
          hooks.onShutdownRequested();
          return snapshot;
        case FINISHED_EVENT:
          return { ...snapshot, status: 'done', output: (event as unknown as { output: TOutput }).output, error: undefined };
        case FAILED_EVENT:
          return { ...snapshot, status: 'error', output: undefined, error: (event as unknown as { error: unknown }).error };
        default:
          return snapshot;
      }
    },
    getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined, context, can: canShutDown }),
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  const actor = createActor(logic, { id, input: undefined });
  actor.subscribe({ error: ignore });
  actor.start();
  return actor as unknown as AnyActorRef;
}

/** Ends a component's actor in a final state with `output`, unless it already ended. */
export function finishComponentActor(ref: AnyActorRef, output?: unknown): void {
  if ((ref.getSnapshot() as { status: string }).status === 'active') ref.send({ type: FINISHED_EVENT, output });
}

/** Ends a component's actor with `error` (an `'error'` exit for a supervisor), unless it already ended. */
export function failComponentActor(ref: AnyActorRef, error: unknown): void {
  if ((ref.getSnapshot() as { status: string }).status === 'active') ref.send({ type: FAILED_EVENT, error } as EventObject);
}

/** The context of a component actor's snapshot, or `undefined` for any other actor. */
export function componentContextOf(ref: AnyActorRef | undefined): unknown {
  const snapshot = ref?.getSnapshot() as Partial<ComponentSnapshot<unknown, unknown>> | undefined;
  return snapshot?.can === canShutDown ? snapshot.context : undefined;
}
