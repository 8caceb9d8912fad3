import type { AnyActorRef } from 'xstate';
import { presentedRefKey } from '../supervisor/internal.js';

/**
 * Makes `ref` present `present()` to its supervisor instead of itself (see `presentedRef` in
 * src/supervisor/shutdown-protocol.ts): a singleton child's actor stands for the actor its
 * `start` returned, that one while it runs, `undefined` while the singleton stands by.
 */
export function presentRef(ref: AnyActorRef, present: () => AnyActorRef | undefined): void {
  Object.defineProperty(ref, presentedRefKey, { value: present, enumerable: false });
}
