/**
 * The source of time for every timer-driven component. Structurally compatible with XState's
 * `Clock`, so it can be passed straight to `createActor(logic, { clock })`.
 */
export interface Clock {
  /** Monotonic milliseconds; only differences between two readings are meaningful. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * A clock whose time only moves when told to. Deterministic specs use it instead of sleeping.
 */
export interface TestClock extends Clock {
  /**
   * Moves time forward by `ms` and runs, synchronously and in time order, every timer due within
   * the span, including timers that callbacks schedule during the advance.
   */
  advance(ms: number): void;
  /** How many timers are scheduled and not yet fired or cleared. */
  pendingTimers(): number;
  /** The due time of the earliest pending timer, or `undefined` when none is pending. */
  nextDue(): number | undefined;
}
