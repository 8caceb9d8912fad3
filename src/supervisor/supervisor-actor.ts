import type { ActorLogic, AnyActorRef, EventObject, Snapshot } from 'xstate';
import { createActor } from 'xstate';
import { SHUTDOWN_EVENT } from './shutdown-protocol.js';

/** What a supervisor's actor ends with: its exit, as its own parent sees it. */
export type SupervisorOutput = 'normal' | 'shutdown';

/** What every snapshot of a supervisor's actor carries besides its status. */
interface SupervisorSnapshotExtras {
  /** Names the supervisor; `handle` is its API object (a `Supervisor` or `DynamicSupervisor`). */
  context: { id: string; handle: unknown };
  /** A supervisor always takes part in graceful shutdown (see `SHUTDOWN_EVENT`). */
  can(event: EventObject): boolean;
}

/** The snapshot of a supervisor's actor. */
export type SupervisorSnapshot = Snapshot<SupervisorOutput> & SupervisorSnapshotExtras;

/** The internal event by which a supervisor's engine ends its actor in a final state. */
const EXIT_EVENT = 'overseer.supervisor.exit';

interface ExitEvent {
  type: typeof EXIT_EVENT;
  output: SupervisorOutput;
}

/** What the actor tells the engine behind it. */
export interface SupervisorActorHooks {
  /** A parent asked for a graceful shutdown. */
  onShutdownRequested(): void;
  /** Someone stopped the actor outright: the children must go at once. */
  onKilled(): void;
}

function canHandle(event: EventObject): boolean {
  return event.type === SHUTDOWN_EVENT.type;
}

/**
 * A supervisor as an XState actor. The supervision itself lives in plain structures (an actor
 * context holding thousands of children would make every change quadratic); the actor is the
 * supervisor's face to the actor world: a parent starts, watches and stops it like any child.
 */
function supervisorLogic(id: string, handle: unknown, hooks: SupervisorActorHooks) {
  const logic: ActorLogic<SupervisorSnapshot, EventObject, undefined> = {
    transition(snapshot, event) {
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case 'xstate.stop':
          hooks.onKilled();
          return { ...snapshot, status: 'stopped', output: undefined, error: undefined };
        case SHUTDOWN_EVENT.type:
          hooks.onShutdownRequested();
          return snapshot;
        case EXIT_EVENT:
          return { ...snapshot, status: 'done', output: (event as ExitEvent).output, error: undefined };
        default:
          return snapshot;
      }
    },
    getInitialSnapshot: () => ({
      status: 'active',
      output: undefined,
      error: undefined,
      context: { id, handle },
      can: canHandle,
    }),
    getPersistedSnapshot: (snapshot) => snapshot,
  };
  return logic;
}

/** Creates and starts the actor of a supervisor. */
export function startSupervisorActor(id: string, handle: unknown, hooks: SupervisorActorHooks): AnyActorRef {
  const actor = createActor(supervisorLogic(id, handle, hooks), { id, input: undefined });
  actor.start();
  return actor as unknown as AnyActorRef;
}

/** Ends a supervisor's actor in a final state with `output`, unless it already ended. */
export function finishSupervisorActor(ref: AnyActorRef, output: SupervisorOutput): void {
  ref.send({ type: EXIT_EVENT, output } satisfies ExitEvent);
}

/**
 * The supervisor API object behind a supervisor's actor ref, e.g. a nested supervisor's `ref` as
 * a parent's `whichChildren()` lists it; `undefined` for any other actor.
 *
 * @example
 * ```ts
 * const nested = supervisorOf(root.whichChildren()[0].ref) as Supervisor;
 * ```
 */
export function supervisorOf(ref: AnyActorRef | undefined): unknown {
  const snapshot = ref?.getSnapshot() as Partial<SupervisorSnapshot> | undefined;
  return snapshot?.context && typeof snapshot.can === 'function' && snapshot.can === canHandle
    ? snapshot.context.handle
    : undefined;
}
