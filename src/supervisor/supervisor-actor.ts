import type { AnyActorRef } from 'xstate';
import { InvalidArgumentError } from '../core/index.js';
import {
  componentContextOf,
  finishComponentActor,
  startComponentActor,
  type ComponentActorHooks,
  type ComponentSnapshot,
} from './component-actor.js';
import { isActorRef } from './shutdown-protocol.js';

/** What a supervisor's actor ends with: its exit, as its own parent sees it. */
export type SupervisorOutput = 'normal' | 'shutdown';

/**
 * The snapshot of a supervisor's actor (`supervisor.ref.getSnapshot()`): `context.handle` is its
 * API object (see {@link supervisorOf}), and `output`, once it is done, its exit.
 */
export type SupervisorSnapshot = ComponentSnapshot<
  {
    /** The supervisor's id. */
    id: string;
    /** Its API object: a `Supervisor` or `DynamicSupervisor`. */
    handle: unknown;
    /** Tells a supervisor's actor from other components' (`'pool'`). */
    kind: 'supervisor';
  },
  'normal' | 'shutdown'
>;

/** What the actor tells the engine behind it. */
export type SupervisorActorHooks = ComponentActorHooks;

/**
 * Creates and starts the actor of a supervisor. The supervision itself lives in plain structures
 * (an actor context holding thousands of children would make every change quadratic); the actor
 * is the supervisor's face to the actor world.
 */
export function startSupervisorActor(id: string, handle: unknown, hooks: SupervisorActorHooks): AnyActorRef {
  return startComponentActor(id, { id, handle, kind: 'supervisor' as const }, hooks);
}

/** Ends a supervisor's actor in a final state with `output`, unless it already ended. */
export function finishSupervisorActor(ref: AnyActorRef, output: SupervisorOutput): void {
  finishComponentActor(ref, output);
}

/**
 * The supervisor API object behind a supervisor's actor ref, e.g. a nested supervisor's `ref` as
 * a parent's `whichChildren()` lists it; `undefined` for any other actor and for `undefined` (a
 * child not running). Anything else is refused with an `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * const nested = supervisorOf(root.whichChildren()[0].ref) as Supervisor;
 * ```
 */
export function supervisorOf(ref: AnyActorRef | undefined): unknown {
  if (ref !== undefined && !isActorRef(ref)) throw new InvalidArgumentError('supervisorOf.ref', ref, 'an XState actor ref or undefined');
  const context = componentContextOf(ref) as { kind?: string; handle?: unknown } | undefined;
  return context?.kind === 'supervisor' ? context.handle : undefined;
}
