import { assign, setup } from 'xstate';
import type { Clock } from '../clock/index.js';

/** What a breaker machine is started with (`createActor(breakerMachine, { input })`), to drive the machine without a `Breaker`. */
export interface BreakerMachineInput {
  /** How long the breaker stays open before it lets probes through. */
  resetMs: number;
  /** Successful probes in a row needed to close again. */
  halfOpenProbes: number;
  /** Stamps `openedAt`; the machine's own delays follow the actor's clock. */
  clock: Clock;
}

/** The breaker machine's context: its input, when it last opened and the probes of the current half-open spell (`breaker.actor.getSnapshot().context`). */
export interface BreakerContext extends BreakerMachineInput {
  /** `clock.now()` when it last opened. */
  openedAt: number;
  /**
   * `clock.now()` at which the last opening's reset timer fires (`openedAt` + the `resetMs` of that
   * opening): what a refusal's `retryAfterMs` counts down to, unchanged by a later CONFIGURE.
   */
  halfOpenAt: number;
  /** Successful probes counted in the current half_open spell. */
  probeSuccesses: number;
}

/**
 * The events that move a breaker: the breaker sends TRIP when its tolerance is exceeded and
 * PROBE_SUCCEEDED / PROBE_FAILED as half-open probes finish; RESET, DISABLE and ENABLE come from
 * its API, CONFIGURE (the new `resetMs` and `halfOpenProbes`) from `reconfigure`. Successful calls
 * in `closed` send nothing.
 */
export type BreakerEvent =
  | { type: 'TRIP' }
  | { type: 'PROBE_SUCCEEDED' }
  | { type: 'PROBE_FAILED' }
  | { type: 'RESET' }
  | { type: 'DISABLE' }
  | { type: 'ENABLE' }
  | {
      type: 'CONFIGURE';
      /** The new time an opened breaker stays open, in ms (applies from the next opening). */
      resetMs: number;
      /** The new number of successful probes needed to close. */
      halfOpenProbes: number;
    };

/**
 * The circuit breaker as an XState v5 machine: `closed`, `open`, `half_open`, `disabled`.
 *
 * - `closed` → `open` on TRIP.
 * - `open` → `half_open` after `resetMs` (an XState delay on the actor's clock). The delay belongs
 *   to the `open` state, so leaving `open` by any route cancels it, and a failure while open sends
 *   nothing: there is exactly one reset timer, never extended nor restarted.
 * - `half_open` → `closed` after `halfOpenProbes` PROBE_SUCCEEDED; → `open` (for another
 *   `resetMs`) on PROBE_FAILED.
 * - RESET → `closed` from `closed`, `open` and `half_open`; DISABLE → `disabled` from anywhere;
 *   ENABLE → `closed` from `disabled` only (RESET does not leave `disabled`).
 * - CONFIGURE (a hot reload) changes `resetMs` and `halfOpenProbes` in any state without leaving
 *   it: a pending reset timer keeps its time, the new `resetMs` applies from the next opening.
 *
 * Exported so it can be inspected, visualised or driven on its own.
 */
export const breakerMachine = setup({
  types: {
    context: {} as BreakerContext,
    input: {} as BreakerMachineInput,
    events: {} as BreakerEvent,
  },
  delays: {
    resetDelay: ({ context }) => context.resetMs,
  },
  guards: {
    lastProbeNeeded: ({ context }) => context.probeSuccesses + 1 >= context.halfOpenProbes,
  },
  actions: {
    stampOpened: assign(({ context }) => {
      const openedAt = context.clock.now();
      return { openedAt, halfOpenAt: openedAt + context.resetMs };
    }),
    countProbeSuccess: assign({ probeSuccesses: ({ context }) => context.probeSuccesses + 1 }),
    forgetProbes: assign({ probeSuccesses: 0 }),
    configure: assign(({ event }) =>
      event.type === 'CONFIGURE' ? { resetMs: event.resetMs, halfOpenProbes: event.halfOpenProbes } : {},
    ),
  },
}).createMachine({
  id: 'breaker',
  context: ({ input }) => ({ ...input, openedAt: 0, halfOpenAt: 0, probeSuccesses: 0 }),
  initial: 'closed',
  on: {
    CONFIGURE: { actions: 'configure' },
  },
  states: {
    closed: {
      on: {
        TRIP: 'open',
        RESET: { target: 'closed', reenter: true },
        DISABLE: 'disabled',
      },
    },
    open: {
      entry: 'stampOpened',
      after: { resetDelay: 'half_open' },
      on: {
        RESET: 'closed',
        DISABLE: 'disabled',
      },
    },
    half_open: {
      entry: 'forgetProbes',
      on: {
        PROBE_SUCCEEDED: [{ guard: 'lastProbeNeeded', target: 'closed' }, { actions: 'countProbeSuccess' }],
        PROBE_FAILED: 'open',
        RESET: 'closed',
        DISABLE: 'disabled',
      },
    },
    disabled: {
      on: {
        ENABLE: 'closed',
      },
    },
  },
});

/** The machine's state names, which are the breaker's states. */
export type BreakerStateValue = 'closed' | 'open' | 'half_open' | 'disabled';
