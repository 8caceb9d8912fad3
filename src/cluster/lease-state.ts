import type { LeaseLossReason } from './cluster-lease.js';
import type { Claim } from './lease-store.js';
import { localDeadline, type LeaseTiming } from './lease-timing.js';

/**
 * The local state of one lease object as a pure transition function: what it believes it holds,
 * the one store operation it has in flight, and what it sends next. The shell
 * (`store-lease.ts`) feeds it the calls, the store's answers and the clock, performs the effects
 * it returns, and arms one timer for {@link wakeAt}.
 *
 * Rules it keeps:
 * - One store operation at a time, in the order asked: a release is never overtaken by a claim
 *   (which could otherwise be granted and then deleted by the release it overtook), and a claim
 *   is never sent after a release the store did not confirm until that release is confirmed.
 * - The local deadline comes first: every input, before anything else, ends a holding whose
 *   deadline has passed (`'expired'`), so a process whose event loop was blocked past it learns
 *   so before it acts on anything else.
 * - An answer that comes after the operation's time (`answerWithinMs`) is not believed: the
 *   operation counts as unanswered, whatever it says.
 */

/** A store operation in flight. A new object per operation: the shell matches answers by identity. */
export type LeaseOperation =
  | { readonly kind: 'acquire'; readonly sentAt: number }
  | { readonly kind: 'renew'; readonly sentAt: number }
  | { readonly kind: 'release'; readonly sentAt: number; readonly fence: number };

/** A holding this object believes in. */
export interface Holding {
  readonly fence: number;
  /** When the claim that granted or last renewed it was sent (this object's clock). */
  readonly sentAt: number;
  /** The local deadline: `sentAt + ttlMs − marginMs`. */
  readonly deadline: number;
}

/** The local state of a lease object. */
export interface LeaseState {
  /** Set by a granted claim; cleared by a loss or by `release()`. */
  readonly holding: Holding | undefined;
  /** The one store operation in flight. */
  readonly inFlight: LeaseOperation | undefined;
  /**
   * What to send once the operation in flight settles: `'release'` after a claim (the caller
   * released meanwhile), `'acquire'` after a release (the caller acquired meanwhile).
   */
  readonly next: 'acquire' | 'release' | undefined;
  /**
   * The fence of a holding of this owner that the store may still keep: the current one, or one
   * lost or released without the store confirming. `release()` releases it.
   */
  readonly storeFence: number | undefined;
  /** A `release()` the store did not confirm: it is sent again before the next claim. */
  readonly releaseOwed: boolean;
}

/** Why a store operation failed. */
export interface Unanswered {
  readonly reason: 'timeout' | 'error';
  readonly cause: unknown;
}

/** What the shell must do after a transition, in this order. */
export type LeaseEffect =
  | { readonly type: 'send'; readonly operation: LeaseOperation }
  | { readonly type: 'acquired'; readonly fence: number; readonly durationMs: number }
  | { readonly type: 'renewed'; readonly fence: number; readonly durationMs: number }
  | { readonly type: 'released'; readonly fence: number; readonly confirmed: boolean }
  /** Settles every pending `acquire()`: held, not held, or the store could not say. */
  | { readonly type: 'acquire-settled'; readonly outcome: boolean | Unanswered }
  /** Settles every pending `release()`: done (also when there was nothing to release), or not confirmed. */
  | { readonly type: 'release-settled'; readonly outcome: true | Unanswered }
  | { readonly type: 'lost'; readonly reason: LeaseLossReason; readonly fence: number; readonly graceMs: number };

/** What moves a lease object. `now` is its clock's reading when the input happened. */
export type LeaseInput =
  | { readonly type: 'acquire'; readonly now: number }
  | { readonly type: 'release'; readonly now: number }
  /** The store answered the claim in flight. */
  | { readonly type: 'claimed'; readonly now: number; readonly claim: Claim }
  /** The store confirmed the release in flight. */
  | { readonly type: 'released'; readonly now: number }
  /** The operation in flight failed (the store rejected it). */
  | { readonly type: 'failed'; readonly now: number; readonly cause: unknown }
  /** The lease's timer fired: deadline, operation time-out, renewal. */
  | { readonly type: 'timer'; readonly now: number }
  /** Someone looked (`isHeld()`, `fence`): only the deadline is checked. */
  | { readonly type: 'observe'; readonly now: number };

/** The state of a lease object that has never been used. */
export const initialLeaseState: LeaseState = Object.freeze({
  holding: undefined,
  inFlight: undefined,
  next: undefined,
  storeFence: undefined,
  releaseOwed: false,
});

/** Whether `state` holds the lease at `now`: a holding whose local deadline has not passed. */
export function holds(state: LeaseState, now: number): boolean {
  return state.holding !== undefined && now < state.holding.deadline;
}

/**
 * The clock time at which the lease's one timer must fire: the time-out of the operation in
 * flight, the local deadline, or the next renewal, whichever comes first; `undefined` when none
 * applies (nothing held, nothing in flight).
 */
export function wakeAt(state: LeaseState, timing: LeaseTiming): number | undefined {
  let due: number | undefined;
  const consider = (time: number): void => {
    if (due === undefined || time < due) due = time;
  };
  if (state.inFlight !== undefined) consider(state.inFlight.sentAt + timing.answerWithinMs);
  if (state.holding !== undefined) {
    consider(state.holding.deadline);
    if (state.inFlight === undefined) consider(state.holding.sentAt + timing.renewEveryMs);
  }
  return due;
}

/** A mutable copy of the state, and the effects gathered, for one transition. */
interface Draft {
  holding: Holding | undefined;
  inFlight: LeaseOperation | undefined;
  next: 'acquire' | 'release' | undefined;
  storeFence: number | undefined;
  releaseOwed: boolean;
  readonly effects: LeaseEffect[];
}

/** The next state and the effects to perform, for one input. */
export function leaseTransition(state: LeaseState, input: LeaseInput, timing: LeaseTiming): { state: LeaseState; effects: LeaseEffect[] } {
  const draft: Draft = { ...state, effects: [] };
  const now = input.now;
  expireIfDue(draft, now);
  switch (input.type) {
    case 'acquire':
      acquire(draft, now);
      break;
    case 'release':
      release(draft, now);
      break;
    case 'claimed':
    case 'released':
    case 'failed':
      if (draft.inFlight === undefined) break;
      if (now >= draft.inFlight.sentAt + timing.answerWithinMs) {
        // Late: not believed (the operation has timed out, whatever it says).
        settleFailure(draft, now, { reason: 'timeout', cause: undefined });
      } else if (input.type === 'failed') {
        settleFailure(draft, now, { reason: 'error', cause: input.cause });
      } else if (input.type === 'claimed' && draft.inFlight.kind !== 'release') {
        settleClaim(draft, now, input.claim, timing);
      } else if (input.type === 'released' && draft.inFlight.kind === 'release') {
        settleRelease(draft, now);
      }
      break;
    case 'timer':
      if (draft.inFlight !== undefined && now >= draft.inFlight.sentAt + timing.answerWithinMs) {
        settleFailure(draft, now, { reason: 'timeout', cause: undefined });
      }
      if (draft.holding !== undefined && draft.inFlight === undefined && now >= draft.holding.sentAt + timing.renewEveryMs) {
        send(draft, { kind: 'renew', sentAt: now });
      }
      break;
    case 'observe':
      break;
  }
  const { effects, ...next } = draft;
  return { state: Object.freeze(next), effects };
}

/** The deadline first: a holding past it is lost, before the input is looked at. */
function expireIfDue(draft: Draft, now: number): void {
  const holding = draft.holding;
  if (holding === undefined || now < holding.deadline) return;
  draft.holding = undefined;
  draft.effects.push({ type: 'lost', reason: 'expired', fence: holding.fence, graceMs: 0 });
}

function send(draft: Draft, operation: LeaseOperation): void {
  draft.inFlight = operation;
  draft.effects.push({ type: 'send', operation });
}

function acquire(draft: Draft, now: number): void {
  if (draft.holding !== undefined) {
    draft.effects.push({ type: 'acquire-settled', outcome: true });
    return;
  }
  const inFlight = draft.inFlight;
  if (inFlight === undefined) {
    if (draft.releaseOwed && draft.storeFence !== undefined) {
      // The store may still keep a holding that was released here: it is released there first,
      // so that a late copy of the earlier release can never delete the holding claimed next.
      draft.next = 'acquire';
      send(draft, { kind: 'release', sentAt: now, fence: draft.storeFence });
    } else {
      send(draft, { kind: 'acquire', sentAt: now });
    }
    return;
  }
  if (inFlight.kind === 'release') {
    draft.next = 'acquire';
    return;
  }
  // A claim is in flight with nothing held here: an acquire, or the renewal of a holding lost or
  // released meanwhile. Its answer settles this acquire; a release asked meanwhile is superseded.
  if (inFlight.kind === 'renew') draft.inFlight = { kind: 'acquire', sentAt: inFlight.sentAt };
  if (draft.next === 'release') {
    draft.next = undefined;
    draft.effects.push({ type: 'release-settled', outcome: true });
  }
}

function release(draft: Draft, now: number): void {
  const holding = draft.holding;
  if (holding !== undefined) {
    draft.holding = undefined;
    draft.storeFence = holding.fence;
  }
  const inFlight = draft.inFlight;
  if (inFlight === undefined) {
    if (draft.storeFence === undefined) draft.effects.push({ type: 'release-settled', outcome: true });
    else send(draft, { kind: 'release', sentAt: now, fence: draft.storeFence });
    return;
  }
  if (inFlight.kind === 'release') {
    if (draft.next === 'acquire') {
      draft.next = undefined;
      draft.effects.push({ type: 'acquire-settled', outcome: false });
    }
    return;
  }
  // A claim is in flight: the release follows its answer (see settleClaim).
  draft.next = 'release';
}

function settleClaim(draft: Draft, now: number, claim: Claim, timing: LeaseTiming): void {
  const operation = draft.inFlight!;
  draft.inFlight = undefined;
  const holding = draft.holding;
  if (draft.next === 'release') {
    draft.next = undefined;
    if (operation.kind === 'acquire') draft.effects.push({ type: 'acquire-settled', outcome: false });
    draft.storeFence = claim.held ? claim.fence : undefined;
    sendReleaseOrSettle(draft, now);
    return;
  }
  if (holding !== undefined) {
    // The renewal of the current holding.
    if (claim.held && claim.fence === holding.fence) {
      draft.holding = { fence: holding.fence, sentAt: operation.sentAt, deadline: localDeadline(operation.sentAt, timing) };
      draft.effects.push({ type: 'renewed', fence: holding.fence, durationMs: now - operation.sentAt });
      return;
    }
    draft.holding = undefined;
    draft.storeFence = claim.held ? claim.fence : undefined;
    // A different fence: the store lost this holding and this owner took the lease anew; the work
    // fenced by the old one must stop (acquire() again gets the new one).
    const reason: LeaseLossReason = claim.held ? 'expired' : 'taken';
    draft.effects.push({ type: 'lost', reason, fence: holding.fence, graceMs: 0 });
    return;
  }
  if (operation.kind === 'acquire') {
    if (claim.held) {
      draft.holding = { fence: claim.fence, sentAt: operation.sentAt, deadline: localDeadline(operation.sentAt, timing) };
      draft.storeFence = claim.fence;
      draft.releaseOwed = false;
      draft.effects.push({ type: 'acquired', fence: claim.fence, durationMs: now - operation.sentAt });
      draft.effects.push({ type: 'acquire-settled', outcome: true });
    } else {
      draft.storeFence = undefined;
      draft.effects.push({ type: 'acquire-settled', outcome: false });
    }
    return;
  }
  // The renewal of a holding that expired here meanwhile: only what the store keeps is noted.
  draft.storeFence = claim.held ? claim.fence : undefined;
}

function settleRelease(draft: Draft, now: number): void {
  const operation = draft.inFlight as Extract<LeaseOperation, { kind: 'release' }>;
  draft.inFlight = undefined;
  if (draft.storeFence === operation.fence) draft.storeFence = undefined;
  draft.releaseOwed = false;
  draft.effects.push({ type: 'released', fence: operation.fence, confirmed: true });
  draft.effects.push({ type: 'release-settled', outcome: true });
  if (draft.next === 'acquire') {
    draft.next = undefined;
    send(draft, { kind: 'acquire', sentAt: now });
  }
}

function settleFailure(draft: Draft, now: number, failure: Unanswered): void {
  const operation = draft.inFlight!;
  draft.inFlight = undefined;
  if (operation.kind === 'release') {
    draft.releaseOwed = true;
    draft.effects.push({ type: 'released', fence: operation.fence, confirmed: false });
    draft.effects.push({ type: 'release-settled', outcome: failure });
    if (draft.next === 'acquire') {
      // The release must be confirmed before a claim: the acquire cannot be answered.
      draft.next = undefined;
      draft.effects.push({ type: 'acquire-settled', outcome: failure });
    }
    return;
  }
  if (draft.next === 'release') {
    draft.next = undefined;
    if (operation.kind === 'acquire') draft.effects.push({ type: 'acquire-settled', outcome: false });
    sendReleaseOrSettle(draft, now);
    return;
  }
  const holding = draft.holding;
  if (holding !== undefined) {
    draft.holding = undefined;
    draft.effects.push({ type: 'lost', reason: 'unavailable', fence: holding.fence, graceMs: Math.max(0, holding.deadline - now) });
    return;
  }
  if (operation.kind === 'acquire') draft.effects.push({ type: 'acquire-settled', outcome: failure });
}

/** After a claim settled with a release asked meanwhile: release what the store may keep. */
function sendReleaseOrSettle(draft: Draft, now: number): void {
  if (draft.storeFence === undefined) draft.effects.push({ type: 'release-settled', outcome: true });
  else send(draft, { kind: 'release', sentAt: now, fence: draft.storeFence });
}
