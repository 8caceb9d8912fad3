import type { Admitted, Decision } from '../decision.js';

/** Admitted decisions with a count above this get a promise of their own per hit. */
const SETTLED_COUNTS = 1024;

/** A shared admitted decision and the promise fulfilled with it. */
interface Settled {
  readonly decision: Admitted;
  readonly promise: Promise<Decision>;
}

/**
 * Promises already fulfilled with the shared admitted decisions of an embedded limiter, built once
 * per decision: `hit` hands the same settled promise to every hit that got the same shared
 * decision, so that an admitted `hit` allocates nothing (a fresh promise per hit was most of what
 * `hit` cost beyond `hitSync`). A fulfilled promise never changes, so sharing one is safe.
 *
 * A decision is recognised by identity at its count: when the limiter's shared decisions are
 * rebuilt (a new limit), the first hit at each count builds its promise anew. Denials and
 * decisions that are not shared get a promise of their own, as before.
 */
export class SettledDecisions {
  private entries: Array<Settled | undefined> | undefined;

  /** A promise fulfilled with `decision` (of a limiter whose limit is `limit`): the same one for the same shared admitted decision. */
  of(decision: Decision, limit: number): Promise<Decision> {
    if (!decision.allowed || decision.count > SETTLED_COUNTS) return Promise.resolve(decision);
    // Pre-sized on first use so that V8 keeps fast (holey) elements whatever order the counts come in.
    // Stryker disable next-line ArrayDeclaration,ArithmeticOperator: the length is only a sizing hint (never negative, as limit >= 1): entries past it are added on assignment
    const entries = (this.entries ??= new Array<Settled | undefined>(Math.min(limit, SETTLED_COUNTS) + 1));
    const entry = entries[decision.count];
    if (entry !== undefined && entry.decision === decision) return entry.promise;
    const promise = Promise.resolve<Decision>(decision);
    entries[decision.count] = { decision, promise };
    return promise;
  }
}
