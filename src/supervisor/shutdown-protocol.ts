import type { AnyActorRef } from 'xstate';
import type { ExitReason } from './types.js';

/**
 * The event a supervisor sends a child to ask it to stop gracefully.
 *
 * The protocol, OTP's `shutdown` exit signal re-expressed for actors:
 * - A child takes part when its snapshot's `can(SHUTDOWN_EVENT)` is true: a state machine does
 *   when its current state handles `overseer.shutdown`; overseer's own actors (supervisors,
 *   pools) always do. Any other child is stopped at once, as an Erlang process that does not trap
 *   exits dies at once.
 * - The child reports that it has finished cleaning up by reaching a final state (or by stopping
 *   or failing: any end counts).
 * - The supervisor waits up to the child's `shutdown` ms for that, then stops it with
 *   `actor.stop()`; `'infinity'` waits for ever and `'brutal_kill'` does not ask at all.
 *
 * @example
 * ```ts
 * const worker = setup({}).createMachine({
 *   initial: 'serving',
 *   states: {
 *     serving: { on: { 'overseer.shutdown': 'draining' } },
 *     draining: { invoke: { src: 'drain', onDone: 'stopped' } },
 *     stopped: { type: 'final' },
 *   },
 * });
 * ```
 */
export const SHUTDOWN_EVENT = Object.freeze({ type: 'overseer.shutdown' as const });

/** The type of {@link SHUTDOWN_EVENT}. */
export type ShutdownEvent = typeof SHUTDOWN_EVENT;

/** Whether `ref` takes part in graceful shutdown (see {@link SHUTDOWN_EVENT}). */
export function acceptsShutdown(ref: AnyActorRef): boolean {
  const snapshot = ref.getSnapshot() as { can?: (event: ShutdownEvent) => boolean } | undefined;
  // Stryker disable next-line ConditionalExpression: the try below answers false for a missing can() too; this spares a throw per plain actor
  if (typeof snapshot?.can !== 'function') return false;
  try {
    return snapshot.can(SHUTDOWN_EVENT) === true;
  } catch {
    return false;
  }
}

/**
 * The reason of an exit the supervisor did not cause, from the actor's final status: a final
 * state is `'normal'`, an error `'error'`, being stopped by someone else `'shutdown'`.
 */
export function exitReasonOf(status: string): ExitReason {
  if (status === 'done') return 'normal';
  if (status === 'error') return 'error';
  return 'shutdown';
}

/** Stops an actor at once; an actor that cannot be stopped from outside is left as it is. */
export function killActor(ref: AnyActorRef): void {
  try {
    ref.stop();
  } catch {
    // A non-root actor refuses stop(); its own parent owns its life.
  }
}

/** Whether `value` looks like an XState actor ref the supervisor can start and watch. */
export function isActorRef(value: unknown): value is AnyActorRef {
  const candidate = value as Partial<AnyActorRef> | null | undefined;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.subscribe === 'function' &&
    typeof candidate.start === 'function' &&
    typeof candidate.getSnapshot === 'function' &&
    typeof candidate.send === 'function'
  );
}

/**
 * The key under which a child's actor may name the actor `whichChildren()` shows for it: a
 * function returning that actor, or `undefined` when none runs now (a singleton child standing
 * by shows no ref). A registered symbol, so components need not import the supervisor.
 */
export const presentedRefKey: unique symbol = Symbol.for('overseer.child.presentedRef');

/** The actor `whichChildren()` shows for a child running `ref`: what `ref` presents, else `ref`. */
export function presentedRef(ref: AnyActorRef | undefined): AnyActorRef | undefined {
  const present = (ref as { [presentedRefKey]?: unknown } | undefined)?.[presentedRefKey];
  return typeof present === 'function' ? (present as () => AnyActorRef | undefined)() : ref;
}
