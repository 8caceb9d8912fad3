import type { AnyActorRef } from 'xstate';
import {
  componentContextOf,
  finishComponentActor,
  startComponentActor,
  type ComponentActorHooks,
  type ComponentSnapshot,
} from './component-actor.js';

/** What a supervisor's actor ends with: its exit, as its own parent sees it. */
export type SupervisorOutput = 'normal' | 'shutdown';

/** The snapshot of a supervisor's actor; `context.handle` is its API object. */
export type SupervisorSnapshot = ComponentSnapshot<{ id: string; handle: unknown; kind: 'supervisor' }, SupervisorOutput>;

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
 * a parent's `whichChildren()` lists it; `undefined` for any other actor.
 *
 * @example
 * ```ts
 * const nested = supervisorOf(root.whichChildren()[0].ref) as Supervisor;
 * ```
 */
export function supervisorOf(ref: AnyActorRef | undefined): unknown {
  const context = componentContextOf(ref) as { kind?: string; handle?: unknown } | undefined;
  return context?.kind === 'supervisor' ? context.handle : undefined;
}
