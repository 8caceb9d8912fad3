import { setMaxListeners } from 'node:events';
import { createActor, type Actor, type AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import { breakerMachine } from './breaker-machine.js';
import { CallDeadlines, type Deadline } from './call-deadlines.js';
import { BreakerArgumentError, BreakerOpenError, BreakerTimeoutError } from './errors.js';
import { ConfigError } from '../core/index.js';
import { isAbortSignal, record as objectOption } from '../core/validate.js';
import { resolveBreakerOptions, toleranceFor, type BreakerOptions, type ResolvedBreakerOptions } from './options.js';
import type { Tolerance } from './tolerance.js';
import { breakerFleetHooksKey, type BreakerFleetHooks, type BreakerIsolation } from './isolation.js';

/**
 * A breaker's state, as `state()` reports it: `closed` admits every call, `open` refuses every
 * call until `resetMs` has passed, `half_open` admits `halfOpenProbes` probe calls to test the
 * service, `disabled` refuses every call until `enable()` (or a breaker fleet's restore).
 */
export type BreakerState = 'closed' | 'open' | 'half_open' | 'disabled';

/** Counters since the breaker was created, as `stats()` copies them; they survive restarts under a supervisor. */
export interface BreakerStats {
  /** Calls that succeeded (including those failing with an error `isFailure` does not count). */
  successes: number;
  /** Calls that failed or timed out, and `melt()`s. */
  failures: number;
  /** Calls refused without running. */
  rejected: number;
  /** Times it opened. */
  opened: number;
}

/**
 * A circuit breaker (fuse's semantics), as `createBreaker` or `breakerChild` makes it: wrap the
 * calls to one remote service in `call`, so that once the service keeps failing they are refused
 * at once instead of piling up, and probes test it again after `resetMs`.
 */
export interface Breaker {
  /** Names it in telemetry, errors and an infrastructure tree (`options.name`). */
  readonly name: string;
  /** The XState actor that holds the state. */
  readonly actor: AnyActorRef;
  /** Its state now; read it for health checks and dashboards (a call needs no check first: `call` refuses by itself). */
  state(): BreakerState;
  /**
   * Runs `fn` if admitted; rejects with `BreakerOpenError` (without running it) when not, and with
   * `BreakerArgumentError` (running nothing, counting nothing) when `fn` is not a function or
   * `options` are malformed. Always settles by rejecting, never throws: if `fn` throws, returns a
   * thenable whose `then` throws, or `isFailure`/`neutral` throw on its error, the call fails with
   * that error and counts as a failure.
   */
  call<T>(fn: (signal: AbortSignal) => T | Promise<T>, options?: CallOptions): Promise<T>;
  /**
   * Records one failure by hand, counted in `stats().failures` in every state: closed, it counts
   * toward the tolerance; half-open, it reopens the breaker; open or disabled, it changes nothing.
   */
  melt(): void;
  /** → closed, failure history cleared, pending reset timer cancelled. Ignored while disabled (or isolated by a breaker fleet). */
  reset(): void;
  /** → disabled: refuses every call until `enable()`. */
  disable(): void;
  /**
   * → closed, failure history cleared. An isolation by a breaker fleet is not lifted by it: the
   * breaker keeps refusing (reporting `'disabled'`) until the fleet restores it.
   */
  enable(): void;
  /** A copy of its counters since it was created (successes, failures, refusals, openings). */
  stats(): BreakerStats;
  /**
   * Changes options live (a hot reload) without losing state: an open breaker stays open (its
   * reset timer keeps its time, and refusals keep counting down to it; a new `resetMs` applies
   * from the next opening), counted failures stay counted (as many as the new tolerance can use:
   * its newest `failures + 1`), calls in flight keep their deadline (their errors are judged by
   * the `isFailure` in force when they settle). `name`, `clock` and `telemetry` cannot change.
   * An invalid patch throws `ConfigError` and changes nothing.
   */
  reconfigure(patch: BreakerReconfiguration): void;
}

/** Per-call options of {@link Breaker.call}. */
export interface CallOptions {
  /**
   * Errors that say nothing about the protected service (e.g. a local pool was full before the
   * call reached it): they propagate but count neither as failure nor as success, and a probe
   * that ends with one just frees its slot. If it throws, the call fails with what it threw and
   * counts as a failure. Default none: every error is judged by `isFailure`.
   */
  neutral?: (error: unknown) => boolean;
  /**
   * The caller's own signal: the function gets it (linked to the breaker's timeout signal when
   * `callTimeoutMs` is set), so one signal carries both reasons to stop. Default none: the
   * function gets the breaker's own signal (one that never aborts without `callTimeoutMs`).
   */
  signal?: AbortSignal;
  /**
   * A controller the caller owns, given to the call instead of `signal`: the function gets its
   * signal, aborting it aborts the call as `signal` would, and with `callTimeoutMs` the breaker
   * aborts it at the deadline (with the `BreakerTimeoutError`) instead of making a controller of
   * its own and linking it to the caller's signal, which is most of what a timed call costs. Give
   * a controller that serves this one call (a request's own, say): it is aborted at the deadline.
   * With `signal` as well, `signal` must be this controller's. Default none.
   */
  controller?: AbortController;
}

/** The options {@link Breaker.reconfigure} can change. */
export type BreakerReconfiguration = Partial<
  Pick<BreakerOptions, 'tolerance' | 'failureRate' | 'resetMs' | 'halfOpenProbes' | 'callTimeoutMs' | 'isFailure'>
>;

type CallOutcome = 'success' | 'failure' | 'timeout' | 'neutral';

/**
 * The signal `fn` gets when nothing can abort its call (no deadline, no caller's signal): one per
 * module, since a fresh AbortController per call is the largest cost of the call path. It takes
 * any number of listeners (concurrent calls through undici or fetch each add one and remove it).
 */
const neverAborted: AbortSignal = new AbortController().signal;
setMaxListeners(0, neverAborted);

const ignore = (): void => undefined;

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null | undefined)?.then === 'function';
}

/** What is wrong with the arguments of a call, or undefined when they are fine. */
function malformedCall(fn: unknown, options: unknown): { argument: string; value: unknown; expectation: string } | undefined {
  if (typeof fn !== 'function') return { argument: 'fn', value: fn, expectation: 'a function' };
  // Stryker disable next-line ConditionalExpression: call() asks only when fn is not a function (answered above) or options are given
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) return { argument: 'options', value: options, expectation: 'an object or undefined' };
  const { neutral, signal, controller } = options as { neutral?: unknown; signal?: unknown; controller?: unknown };
  if (neutral !== undefined && typeof neutral !== 'function') {
    return { argument: 'options.neutral', value: neutral, expectation: 'a function or undefined' };
  }
  if (controller !== undefined) {
    if (!(controller instanceof AbortController)) return { argument: 'options.controller', value: controller, expectation: 'an AbortController or undefined' };
    if (signal !== undefined && signal !== controller.signal) {
      return { argument: 'options.signal', value: signal, expectation: "undefined or options.controller's own signal" };
    }
    return undefined;
  }
  // A real AbortSignal passes at once (see protect: the duck-typed check costs a few hundred ns).
  if (signal !== undefined && !(signal instanceof AbortSignal) && !isAbortSignal(signal)) {
    return { argument: 'options.signal', value: signal, expectation: 'an AbortSignal or undefined' };
  }
  return undefined;
}

/**
 * A call with `callTimeoutMs` in flight. It is its own node in the breaker's {@link CallDeadlines}
 * and its own listener (`handleEvent`) on the caller's signal, so that neither needs an object or
 * a closure of its own. Its promise is settled once, by whichever comes first: `fn`'s result or
 * the deadline (`expire`); an abort of the caller's signal aborts the signal `fn` got and lets
 * `fn` settle the call.
 */
class TimedCall<T> implements Deadline {
  readonly at: number;
  previous: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  // Stryker disable next-line BooleanLiteral: a timed call is added to the deadlines before anything can remove it
  queued = false;
  settled = false;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;

  constructor(
    readonly started: number,
    readonly timeoutMs: number,
    readonly probe: boolean,
    readonly spell: number,
    readonly neutral: ((error: unknown) => boolean) | undefined,
    readonly callerSignal: AbortSignal | undefined,
    /** Its signal is the one `fn` gets: aborted at the deadline, or with the caller's signal (the caller's own controller when it gave one). */
    readonly controller: AbortController,
    private readonly expired: (call: TimedCall<T>) => void,
  ) {
    this.at = started + timeoutMs;
  }

  expire(): void {
    this.expired(this);
  }

  /** The caller's signal aborted: so does the signal `fn` got, with the caller's reason. */
  handleEvent(): void {
    // Stryker disable next-line OptionalChaining: this listener is only ever added to a caller's signal
    this.controller.abort(this.callerSignal?.reason);
  }
}

/**
 * The breaker behind {@link createBreaker}.
 *
 * How the machine stays the source of truth without an event per call: the XState actor decides
 * every transition, and this class keeps `current`, a copy of the actor's state value that the
 * actor's own subscription updates synchronously on each transition. The hot path reads that
 * copy. Successful calls in `closed` touch only plain counters (and the rate tolerance's buckets);
 * the actor hears only about what can change its state: TRIP when a tolerance is exceeded, probe
 * outcomes in `half_open`, and the API's reset/disable/enable. A call while open reads the copy
 * and refuses with a stack-less error, never touching the actor. (bench/breaker.bench.ts guards
 * these paths.)
 */
export class CircuitBreaker implements Breaker {
  readonly name: string;
  private machineActor!: Actor<typeof breakerMachine>;
  private current: BreakerState = 'closed';
  /** The actor's state value; `current` shows it unless an isolation lies over it. */
  // Stryker disable next-line StringLiteral: spawnActor moves it to 'closed' before anything reads it
  private machineState: BreakerState = 'closed';
  /** Set while a breaker fleet isolates this breaker (see `isolation.ts`): `current` is then `'disabled'`. */
  private isolation: BreakerIsolation | undefined;
  /** A fleet's watches on `current`; undefined until one watches. */
  private stateWatchers: Set<(state: BreakerState) => void> | undefined;
  private fleetHooks: BreakerFleetHooks | undefined;
  // Stryker disable next-line BooleanLiteral: spawnActor sets it before anything reads it
  private actorDown = false;
  /** The rejected promise every refusal of the current spell returns; see `refuse`. */
  private standingRefusal: Promise<never> | undefined;
  /** `clock.now()` at which the current open spell's reset timer moves the breaker to half_open. */
  private halfOpenAt = 0;
  /** Probe calls admitted and not yet settled, whichever half-open spell admitted them. */
  private probesInFlight = 0;
  private halfOpenSpell = 0;
  private successes = 0;
  private failures = 0;
  private rejected = 0;
  private opened = 0;
  private options: ResolvedBreakerOptions;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private tolerance: Tolerance;
  private readonly given: BreakerOptions;
  /** The deadlines of timed calls in flight, on one clock timer. */
  private readonly deadlines: CallDeadlines;
  private readonly closedSucceeded = <T>(value: T): T => {
    this.recordClosedOutcome('success');
    return value;
  };
  private readonly closedFailed = (error: unknown): never => {
    throw this.recordClosedError(error);
  };

  constructor(options: BreakerOptions) {
    this.options = resolveBreakerOptions(options);
    this.given = { ...options };
    this.name = this.options.name;
    this.clock = this.options.clock;
    this.telemetry = this.options.telemetry;
    this.tolerance = toleranceFor(this.options);
    this.deadlines = new CallDeadlines(this.clock);
    this.spawnActor();
  }

  get actor(): AnyActorRef {
    return this.machineActor as unknown as AnyActorRef;
  }

  state(): BreakerState {
    return this.current;
  }

  // ---------------------------------------------------------------- the call path

  call<T>(fn: (signal: AbortSignal) => T | Promise<T>, options?: CallOptions): Promise<T> {
    // Hot path (bench/breaker.bench.ts, breaker.success against bare-await and one-reaction): one
    // read of the cached state decides, once a typeof has made sure there is a call at all; a closed
    // call with no timeout and no subscriber then costs one reaction to `fn`'s promise (runClosed).
    // Stryker disable next-line ConditionalExpression,StringLiteral: validating a well-formed call finds nothing; the test only skips the work
    if (typeof fn !== 'function' || options !== undefined) {
      const malformed = malformedCall(fn, options);
      if (malformed !== undefined) {
        // A caller's programming error, not the service's failure: rejected in every state, counted nowhere.
        return Promise.reject(new BreakerArgumentError(this.name, malformed.argument, malformed.value, malformed.expectation));
      }
    }
    switch (this.current) {
      case 'closed':
        // Stryker disable next-line ConditionalExpression: the untracked path is the tracked one without the clock read and the event nobody hears
        if (this.options.callTimeoutMs !== undefined || this.telemetry.observed || options?.neutral) {
          return this.runTracked(fn, false, options?.neutral, options?.signal, options?.controller);
        }
        return this.runClosed(fn, options === undefined ? neverAborted : (options.controller?.signal ?? options.signal ?? neverAborted));
      case 'half_open':
        if (this.probesInFlight < this.options.halfOpenProbes) return this.runTracked(fn, true, options?.neutral, options?.signal, options?.controller);
        return this.refuse('half_open');
      default:
        return this.refuse(this.current);
    }
  }

  /**
   * A closed call with neither a timeout nor telemetry subscribers: no closure, no clock read, one
   * reaction to `fn`'s promise. (Handing the caller `fn`'s own promise and counting in a reaction
   * beside the caller's was measured too: no faster in bench/breaker.bench.ts, since either way
   * one reaction job runs per call, and it would hide a dropped rejection from the process.)
   */
  private runClosed<T>(fn: (signal: AbortSignal) => T | Promise<T>, signal: AbortSignal): Promise<T> {
    let result: T | Promise<T>;
    try {
      result = fn(signal);
      // Inside the try: reading `then` runs a getter of the caller's object, which may throw.
      if (isThenable(result)) return Promise.resolve(result).then(this.closedSucceeded, this.closedFailed);
    } catch (error) {
      return Promise.reject(this.recordClosedError(error));
    }
    this.recordClosedOutcome('success');
    return Promise.resolve(result);
  }

  /**
   * Counts the error a closed call failed with and returns what the call rejects with: the error
   * itself, or, when `isFailure` throws on it, what `isFailure` threw (counted as a failure).
   */
  private recordClosedError(error: unknown): unknown {
    let outcome: CallOutcome;
    try {
      // Stryker disable next-line StringLiteral: recordClosedOutcome counts every outcome but 'success' and 'neutral' as a failure
      outcome = this.counts(error) ? 'failure' : 'success';
    } catch (classifierError) {
      // Stryker disable next-line StringLiteral: recordClosedOutcome counts every outcome but 'success' and 'neutral' as a failure
      this.recordClosedOutcome('failure');
      return classifierError;
    }
    this.recordClosedOutcome(outcome);
    return error;
  }

  /**
   * Any other admitted call: a probe, a call with a timeout, or one whose duration is reported.
   * Without a timeout nothing can settle the call but `fn`, so its outcome is taken from one
   * reaction to `fn`'s result, as on the closed path (two closures, no promise of our own).
   */
  private runTracked<T>(
    fn: (signal: AbortSignal) => T | Promise<T>,
    probe: boolean,
    neutral?: (error: unknown) => boolean,
    callerSignal?: AbortSignal,
    callerController?: AbortController,
  ): Promise<T> {
    const started = this.clock.now();
    const spell = this.halfOpenSpell;
    if (probe) this.probesInFlight += 1;
    const timeoutMs = this.options.callTimeoutMs;
    if (timeoutMs !== undefined) {
      const expired = this.timedCallExpired as (call: TimedCall<T>) => void;
      // The caller's own controller needs no link: aborting it is aborting the signal `fn` gets.
      const call =
        callerController === undefined
          ? new TimedCall<T>(started, timeoutMs, probe, spell, neutral, callerSignal, new AbortController(), expired)
          : new TimedCall<T>(started, timeoutMs, probe, spell, neutral, undefined, callerController, expired);
      return this.runTimed(fn, call);
    }
    let result: T | Promise<T>;
    try {
      result = fn(callerController?.signal ?? callerSignal ?? neverAborted);
      // Inside the try: reading `then` runs a getter of the caller's object, which may throw.
      if (isThenable(result)) {
        return Promise.resolve(result).then(
          (value) => {
            this.settleTracked(probe, spell, 'success', started);
            return value;
          },
          (error: unknown) => {
            throw this.trackedFailure(error, probe, spell, neutral, started);
          },
        );
      }
    } catch (error) {
      return Promise.reject(this.trackedFailure(error, probe, spell, neutral, started));
    }
    this.settleTracked(probe, spell, 'success', started);
    return Promise.resolve(result);
  }

  /**
   * A call with `callTimeoutMs`. Hot path (bench/service.bench.ts, service.throughput: the back
   * end's upstream breaker has a call timeout): the call is one {@link TimedCall}, which is also
   * its node in {@link CallDeadlines} and the listener on the caller's signal, so a timed call
   * allocates that object, the AbortController whose signal `fn` gets (it must abort at the
   * deadline), its promise and three closures (the promise's executor and the two reactions to
   * `fn`'s result). The caller's signal gets a listener only when there is one and it has not
   * aborted yet.
   */
  private runTimed<T>(fn: (signal: AbortSignal) => T | Promise<T>, call: TimedCall<T>): Promise<T> {
    // Owned by the call: settled by `fn`'s result, or by its deadline (`timedCallExpired`), whichever comes first.
    const promise = new Promise<T>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    this.deadlines.add(call);
    const callerSignal = call.callerSignal;
    if (callerSignal !== undefined) {
      if (callerSignal.aborted) call.controller.abort(callerSignal.reason);
      else callerSignal.addEventListener('abort', call);
    }
    let result: T | Promise<T>;
    try {
      result = fn(call.controller.signal);
      // Inside the try: reading `then` runs a getter of the caller's object, which may throw.
      if (isThenable(result)) {
        Promise.resolve(result).then(
          (value) => this.timedSucceeded(call, value),
          (error: unknown) => this.timedFailed(call, error),
        );
        return promise;
      }
    } catch (error) {
      this.timedFailed(call, error);
      return promise;
    }
    this.timedSucceeded(call, result);
    return promise;
  }

  private timedSucceeded<T>(call: TimedCall<T>, value: T): void {
    if (this.settleTimed(call, 'success')) call.resolve(value);
  }

  private timedFailed<T>(call: TimedCall<T>, error: unknown): void {
    // Settled already (timed out): the late error is nobody's business, its classifiers included.
    if (call.settled) return;
    let outcome: CallOutcome;
    let reason = error;
    try {
      outcome = this.failedOutcome(error, call.neutral);
    } catch (classifierError) {
      // A classifier that throws must not leave the call pending nor its probe slot taken.
      outcome = 'failure';
      reason = classifierError;
    }
    if (this.settleTimed(call, outcome)) call.reject(reason);
  }

  /** A timed call's deadline passed before `fn` settled: it fails with a timeout and `fn`'s signal aborts. */
  private readonly timedCallExpired = (call: TimedCall<unknown>): void => {
    const error = new BreakerTimeoutError(this.name, call.timeoutMs);
    if (!this.settleTimed(call, 'timeout')) return;
    call.reject(error);
    call.controller.abort(error);
  };

  /** Settles a timed call once (its deadline and its caller link dropped, the outcome counted); false when it had settled. */
  private settleTimed<T>(call: TimedCall<T>, outcome: CallOutcome): boolean {
    // Stryker disable next-line BooleanLiteral: a settled call's deadline is gone and its promise settled: settling it again changes nothing
    if (call.settled) return false;
    call.settled = true;
    this.deadlines.remove(call);
    call.callerSignal?.removeEventListener('abort', call);
    this.settleTracked(call.probe, call.spell, outcome, call.started);
    return true;
  }

  /** Counts and reports the outcome of a tracked call. */
  private settleTracked(probe: boolean, spell: number, outcome: CallOutcome, started: number): void {
    if (probe) this.recordProbeOutcome(spell, outcome);
    else this.recordClosedOutcome(outcome);
    this.emitCall(outcome, started);
  }

  /**
   * Counts the error a tracked call failed with and returns what the call rejects with: the error
   * itself, or, when `neutral` or `isFailure` throws on it, what it threw (counted as a failure).
   */
  private trackedFailure(error: unknown, probe: boolean, spell: number, neutral: ((error: unknown) => boolean) | undefined, started: number): unknown {
    let outcome: CallOutcome;
    let reason = error;
    try {
      outcome = this.failedOutcome(error, neutral);
    } catch (classifierError) {
      // A classifier that throws must not leave the call pending nor its probe slot taken.
      outcome = 'failure';
      reason = classifierError;
    }
    this.settleTracked(probe, spell, outcome, started);
    return reason;
  }

  /** How an error counts: `neutral` first, then `isFailure`; either may throw. */
  private failedOutcome(error: unknown, neutral: ((error: unknown) => boolean) | undefined): CallOutcome {
    if (neutral?.(error) === true) return 'neutral';
    return this.counts(error) ? 'failure' : 'success';
  }

  /**
   * Refuses a call. Rejected promises are dear in Node (each one goes through the unhandled-
   * rejection bookkeeping, hundreds of ns), so a spell of refusals shares one standing rejected
   * promise, made at the first refusal of the spell and dropped on the next state change. Every
   * refused call is still counted and reported.
   */
  private refuse(state: 'open' | 'half_open' | 'disabled'): Promise<never> {
    this.rejected += 1;
    // Stryker disable next-line ConditionalExpression: an event emitted with no subscriber reaches nobody
    if (this.telemetry.observed) {
      this.telemetry.emit(TelemetryEvents.breakerCall, { duration: 0 }, { breaker: this.name, outcome: 'rejected' });
    }
    return (this.standingRefusal ??= this.createRefusal(state));
  }

  private createRefusal(state: 'open' | 'half_open' | 'disabled'): Promise<never> {
    if (this.isolation !== undefined) {
      const refusal = Promise.reject(BreakerOpenError.refuse(this.name, Number.POSITIVE_INFINITY, 'disabled', this.isolation));
      refusal.catch(ignore);
      return refusal;
    }
    // The reset timer of this spell fires at `halfOpenAt` whatever `resetMs` is now: a hot reload
    // changes resetMs from the next opening only.
    const halfOpenAt = this.halfOpenAt;
    const retryAfterMs =
      state === 'open'
        ? () => Math.max(0, halfOpenAt - this.clock.now())
        : state === 'half_open'
          ? 0
          : Number.POSITIVE_INFINITY;
    const refusal = Promise.reject(BreakerOpenError.refuse(this.name, retryAfterMs, state));
    refusal.catch(ignore);
    return refusal;
  }

  private counts(error: unknown): boolean {
    const isFailure = this.options.isFailure;
    return isFailure === undefined || isFailure(error) === true;
  }

  private recordClosedOutcome(outcome: CallOutcome): void {
    if (outcome === 'neutral') return;
    if (outcome === 'success') {
      this.successes += 1;
      // Stryker disable next-line ConditionalExpression,LogicalOperator: the count tolerance ignores successes, and a rate tolerance is cleared when the breaker closes again, so successes counted while not closed are never read
      if (this.current === 'closed' && this.tolerance.countsSuccesses) this.tolerance.success(this.clock.now());
      return;
    }
    this.failures += 1;
    // Stryker disable next-line ConditionalExpression: a failure recorded while not closed is cleared with the tolerance when the breaker closes, and the machine ignores TRIP outside closed
    if (this.current === 'closed' && this.tolerance.failure(this.clock.now())) this.machineActor.send({ type: 'TRIP' });
  }

  private recordProbeOutcome(spell: number, outcome: CallOutcome): void {
    if (outcome === 'success') this.successes += 1;
    else if (outcome !== 'neutral') this.failures += 1;
    // A probe holds its slot until it settles, whichever spell admitted it: a straggler from an
    // earlier half-open spell still counts against `halfOpenProbes`, but only the current spell's
    // probes move the machine.
    this.probesInFlight -= 1;
    if (spell !== this.halfOpenSpell || this.current !== 'half_open' || outcome === 'neutral') return;
    this.machineActor.send({ type: outcome === 'success' ? 'PROBE_SUCCEEDED' : 'PROBE_FAILED' });
  }

  private emitCall(outcome: CallOutcome, started: number): void {
    if (!this.telemetry.observed || outcome === 'neutral') return;
    this.telemetry.emit(TelemetryEvents.breakerCall, { duration: this.clock.now() - started }, { breaker: this.name, outcome });
  }

  // ---------------------------------------------------------------- the API's events

  melt(): void {
    // Stryker disable next-line StringLiteral: recordClosedOutcome counts every outcome but 'success' and 'neutral' as a failure
    if (this.current === 'closed') return this.recordClosedOutcome('failure');
    this.failures += 1;
    if (this.current === 'half_open') this.machineActor.send({ type: 'PROBE_FAILED' });
  }

  reset(): void {
    if (this.current === 'disabled') return;
    this.tolerance.clear();
    this.machineActor.send({ type: 'RESET' });
  }

  disable(): void {
    this.machineActor.send({ type: 'DISABLE' });
  }

  enable(): void {
    if (this.machineState !== 'disabled' || this.actorDown) return;
    this.tolerance.clear();
    this.machineActor.send({ type: 'ENABLE' });
  }

  stats(): BreakerStats {
    return { successes: this.successes, failures: this.failures, rejected: this.rejected, opened: this.opened };
  }

  reconfigure(patch: BreakerReconfiguration): void {
    const changeable = ['tolerance', 'failureRate', 'resetMs', 'halfOpenProbes', 'callTimeoutMs', 'isFailure'];
    for (const key of Object.keys(objectOption('patch', patch))) {
      if (!changeable.includes(key)) throw new ConfigError(key, (patch as Record<string, unknown>)[key], `one of ${changeable.join(', ')} (cannot change live)`);
    }
    const given = { ...this.given, ...patch };
    const options = resolveBreakerOptions(given);
    const tolerance = toleranceFor(options);
    tolerance.adopt(this.tolerance);
    Object.assign(this.given, given);
    this.options = options;
    this.tolerance = tolerance;
    // Stryker disable next-line ConditionalExpression: an event sent to a stopped actor is dropped
    if (!this.actorDown) {
      this.machineActor.send({ type: 'CONFIGURE', resetMs: options.resetMs, halfOpenProbes: options.halfOpenProbes });
    }
  }

  // ---------------------------------------------------------------- the actor

  /**
   * Replaces the actor with a fresh one in `closed`, failure history cleared (what a supervisor's
   * restart does); the stats carry over.
   */
  respawn(): AnyActorRef {
    const old = this.machineActor;
    this.spawnActor();
    try {
      old.stop();
    } catch {
      // Already stopped.
    }
    return this.actor;
  }

  private spawnActor(): void {
    const actor = createActor(breakerMachine, {
      clock: this.clock,
      input: { resetMs: this.options.resetMs, halfOpenProbes: this.options.halfOpenProbes, clock: this.clock },
    });
    this.machineActor = actor;
    this.actorDown = false;
    this.tolerance.clear();
    this.moveTo('closed', 0);
    actor.subscribe({
      next: (snapshot) => {
        // Stryker disable next-line ConditionalExpression: respawn stops the replaced actor at once, so it sends no snapshot after
        if (actor === this.machineActor) this.moveTo(snapshot.value, snapshot.context.halfOpenAt);
      },
      error: () => this.onActorDown(actor),
      complete: () => this.onActorDown(actor),
    });
    actor.start();
  }

  /** The actor failed or was stopped: refuse every call, reporting 'disabled', until respawned. */
  private onActorDown(actor: Actor<typeof breakerMachine>): void {
    if (actor !== this.machineActor) return;
    this.actorDown = true;
    this.moveTo('disabled', this.halfOpenAt);
  }

  /** The actor moved to `next` (or went down: `'disabled'`). */
  private moveTo(next: BreakerState, halfOpenAt: number): void {
    if (next === this.machineState) return;
    this.machineState = next;
    if (next === 'open') {
      this.opened += 1;
      this.halfOpenAt = halfOpenAt;
    } else if (next === 'half_open') {
      // Stryker disable next-line AssignmentOperator: spells are only compared for equality, and counting down keeps them distinct
      this.halfOpenSpell += 1;
    // Stryker disable next-line ConditionalExpression: the tolerance is read only while closed and cleared on the way back to closed (and by enable)
    } else if (next === 'closed') {
      this.tolerance.clear();
    }
    this.show();
  }

  /** Makes `current` what the machine says, or `'disabled'` while isolated, and reports a change. */
  private show(): void {
    const from = this.current;
    const next = this.isolation === undefined ? this.machineState : 'disabled';
    if (next === from) return;
    this.current = next;
    this.standingRefusal = undefined;
    // Stryker disable next-line ConditionalExpression: an event emitted with no subscriber reaches nobody
    if (this.telemetry.observed) this.telemetry.emit(TelemetryEvents.breakerState, undefined, { breaker: this.name, from, to: next });
    if (this.stateWatchers === undefined) return;
    for (const watcher of [...this.stateWatchers]) {
      try {
        watcher(next);
      } catch {
        // A fleet's watcher reports its own failures; it must not break a transition.
      }
    }
  }

  // ---------------------------------------------------------------- the fleet's hooks (internal.ts)

  /** What a breaker fleet isolates and watches this breaker through; not public API. */
  get [breakerFleetHooksKey](): BreakerFleetHooks {
    return (this.fleetHooks ??= {
      isolate: (isolation) => {
        this.isolation = isolation;
        // A new isolation (or its end) needs a refusal that says so, even when `current` stays.
        this.standingRefusal = undefined;
        this.show();
      },
      isolation: () => this.isolation,
      watch: (listener) => {
        const watchers = (this.stateWatchers ??= new Set());
        const entry = (state: BreakerState): void => listener(state);
        watchers.add(entry);
        return () => {
          watchers.delete(entry);
        };
      },
    });
  }
}

/**
 * Creates a circuit breaker: fuse's count tolerance (and optionally a failure-rate tolerance), a
 * half-open state that admits `halfOpenProbes` probes at a time, call timeouts, and telemetry
 * (`breaker.call`, `breaker.state`). Its state lives in an XState actor (`breaker.actor`) running
 * the exported `breakerMachine` on the breaker's clock.
 *
 * An error that `isFailure` does not count propagates unchanged and counts as a success, as in
 * opossum's `errorFilter`.
 *
 * @example
 * ```ts
 * const payments = createBreaker({ name: 'payments', tolerance: { failures: 5, windowMs: 10_000 }, resetMs: 30_000 });
 * const receipt = await payments.call((signal) => fetch(url, { signal }));
 * ```
 */
export function createBreaker(options: BreakerOptions): Breaker {
  return new CircuitBreaker(options);
}
