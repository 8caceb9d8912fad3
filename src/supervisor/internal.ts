/**
 * What other concepts of the package share with the supervisor and is not public API: the actor
 * face of components (pools, breakers as children) and the splitting of child-spec options.
 * Not exported from the package root nor from any subpath.
 */
export {
  startComponentActor,
  finishComponentActor,
  failComponentActor,
  componentContextOf,
  type ComponentActorHooks,
  type ComponentSnapshot,
} from './component-actor.js';
export { splitChildOptions, type ChildRunFields } from './child-spec.js';
export { presentedRefKey, presentedRef, acceptsShutdown, killActor, isActorRef } from './shutdown-protocol.js';
