import type { Decision } from '../decision.js';
import type { Limits } from './limits.js';

/**
 * An algorithm whose per-key state is an object the memory backend keeps in a map: the sliding
 * window's log and the two buckets. All four functions are pure but for `hit`, which updates the
 * state in place when it admits (a denied hit leaves the state as it was, in meaning).
 *
 * Time never runs backwards for a key: a `now` earlier than the key's last update is read as that
 * last update, so a clock stepping back (Redis's wall clock can) never hands out extra units.
 */
export interface KeyedAlgorithm<State> {
  /** The state of a key never seen (or forgotten): a fresh key always admits a hit of cost ≤ limit. */
  fresh(now: number, limits: Limits): State;
  /** Decides one hit of `cost` (an integer in [1, limit]) at `now`, updating `state` when admitted. */
  hit(state: State, now: number, cost: number, limits: Limits): Decision;
  /** Whether `state` at `now` decides every future hit as a fresh key would: then it can be dropped. */
  isFresh(state: State, now: number, limits: Limits): boolean;
  /** The units counted against the key at `now`, as an admitted decision's `count` would say. */
  used(state: State, now: number, limits: Limits): number;
}
