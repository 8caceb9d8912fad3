import { setMaxListeners } from 'node:events';
import type { Breaker } from '../breaker/index.js';
import type { Clock } from '../clock/index.js';
import { systemClock } from '../clock/index.js';
import { ConfigError, hasOverseerCode } from '../core/index.js';
import { abortSignal, clockOption, finiteNumber, nonEmptyString, record, telemetryOption } from '../core/validate.js';
import type { MemoryRateLimiter, RateLimiter } from '../limiter/index.js';
import type { CheckoutOptions, Lease, Pool } from '../pool/index.js';
import { TelemetryEvents, telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';
import { CallAbortedError, RateLimitedError, isPoolOwnError, isRefusal, type ProtectionStage } from './errors.js';

/** What one protected call may say about itself. */
export interface ProtectCall {
  /** The rate-limit key (a client, a tenant). Default: the `key` option, else `'global'`. */
  key?: string;
  /** Units this call costs against the limit. Default 1. */
  cost?: number;
  /**
   * Aborting it abandons the call: an aborted call spends nothing (no limiter hit, no worker) and
   * rejects with `CallAbortedError`; a pool checkout stops waiting (`PoolAbortedError`); a
   * function already running sees its signal abort; a pending fallback is given up. Default none.
   */
  signal?: AbortSignal;
  /**
   * A controller the caller owns, given instead of `signal` (its signal serves as `signal` does):
   * a breaker with `callTimeoutMs` aborts it at the call's deadline instead of making a controller
   * of its own for `fn` (see the breaker's `CallOptions.controller`), which saves most of a timed
   * call's cost. Give one that serves this one call (a request's own). With `signal` as well,
   * `signal` must be this controller's. Default none.
   */
  controller?: AbortController;
}

/** The stages that may refuse a call before it runs. */
export type RefusingStage = Exclude<ProtectionStage, 'call'>;

/** Options of {@link protect}. Every stage is optional. */
export interface ProtectOptions<W, T> {
  /** Names the chain in telemetry. Required. */
  name: string;
  /** First stage: hits `key` for `cost` units; a denied hit is a `RateLimitedError`. Default none: no rate limit. */
  limiter?: RateLimiter;
  /** The limiter key when the call gives none: a constant, or computed from the call. Default `'global'`. */
  key?: string | ((call: ProtectCall) => string);
  /**
   * Second stage: an open (or disabled) breaker refuses with `BreakerOpenError` before a worker is
   * sought; once a worker is in hand the breaker admits the call and times and counts `fn` alone.
   * Default none: no breaker.
   */
  breaker?: Breaker;
  /** Third stage: a worker is checked out for the call and released after it. Default none: `fn` gets `undefined` as its worker. */
  pool?: Pool<W>;
  /** How long the pool checkout may wait. Default the pool's own. */
  checkoutTimeoutMs?: number;
  /**
   * Graceful degradation: called instead of failing when a stage in `fallbackOn` refuses (rate
   * limited, breaker open, no worker free; not when the call itself fails or times out), with the
   * refusal and the stage; its answer (a cached or default value) is the call's result. If it
   * throws or rejects, the call rejects with that error. Its wait ends with its own result or
   * with the call's `signal`.
   */
  fallback?: (refusal: unknown, stage: RefusingStage) => T | Promise<T>;
  /** Which refusals the fallback serves. Default `['limiter', 'breaker']`. */
  fallbackOn?: readonly RefusingStage[];
  /** The clock that times each call for telemetry; a test clock in specs. Default `systemClock`. */
  clock?: Clock;
  /** Where it reports each call (`protect.call.start`, `.stop`, `.exception`). Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/**
 * A protected function: each invocation is one protected call. A `call` that is not an object, or
 * whose `signal` is not an AbortSignal, rejects with `ConfigError` before any stage sees it (the
 * breaker counts nothing); a bad `key` or `cost` is the limiter's `InvalidArgumentError`.
 */
export interface ProtectedFunction<T, C extends ProtectCall = ProtectCall> {
  /** Makes one protected call: through the chain's stages, then the function; resolves with its result or the fallback's. */
  (call?: C): Promise<T>;
  /** The chain's name. */
  readonly chain: string;
}

/** How a protected call ended, as its telemetry reports it. */
export type ProtectOutcome = 'ok' | 'refused' | 'fallback' | 'error';

const refusingStages: readonly RefusingStage[] = ['limiter', 'breaker', 'pool'];

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

function isMemoryLimiter(limiter: RateLimiter): limiter is MemoryRateLimiter {
  return typeof (limiter as Partial<MemoryRateLimiter>).hitSync === 'function';
}

/**
 * Handed to a breaker that is open or disabled, which refuses without running it (the breaker's
 * contract): asking it this way gets its own refusal, counted and reported as the breaker does.
 */
function admittedWhileRefusing(): never {
  throw new Error('protect: a breaker admitted a call while open or disabled');
}

/** Whether the error a breaker rejected with is its own call timeout (it aborts the signal it gave `fn` with that error). */
function isTimeoutOf(error: unknown, fnSignal: AbortSignal | undefined): boolean {
  return fnSignal !== undefined && fnSignal.aborted && fnSignal.reason === error && hasOverseerCode(error, 'ERR_BREAKER_TIMEOUT');
}

/**
 * Waits for a fallback's answer, or rejects with `abandoned()` when `signal` aborts first. The wait
 * is owned by the fallback (its result) and the caller (the abort); without a signal, by the
 * fallback alone.
 */
function untilAborted<T>(answer: T | PromiseLike<T>, signal: AbortSignal | undefined, abandoned: () => unknown): Promise<T> {
  if (signal === undefined || !isThenable(answer)) return Promise.resolve(answer);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abandoned());
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(answer).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function resolveFallbackOn(value: unknown): ReadonlySet<RefusingStage> {
  if (value === undefined) return new Set<RefusingStage>(['limiter', 'breaker']);
  if (!Array.isArray(value) || !value.every((stage) => (refusingStages as readonly unknown[]).includes(stage))) {
    throw new ConfigError('fallbackOn', value, `an array of ${refusingStages.map((stage) => `'${stage}'`).join(', ')}`);
  }
  return new Set(value as RefusingStage[]);
}

/**
 * Puts a function behind the protection chain: rate limit → circuit breaker → pool checkout →
 * `fn(worker, signal, call)`, each stage optional; `call` is what the protected function was
 * invoked with (extend {@link ProtectCall} with your own fields to pass arguments through). A
 * refusal rejects with the refusing stage's typed error (`RateLimitedError`, `BreakerOpenError`,
 * `PoolFullError`/`PoolTimeoutError`), each with a `code` and, where known, `retryAfterMs`;
 * `stageOf(error)` names the stage. With `fallback`, refusals by the stages in `fallbackOn` are
 * answered by it instead.
 *
 * The breaker judges the protected service, not the wait for a worker: an open breaker refuses
 * before the pool is touched, and a worker is awaited outside the breaker, which then admits the
 * call and times (`callTimeoutMs`) and counts only `fn`. A full pool is neutral to the breaker
 * however long the wait; a worker that could not be created (its factory failed, e.g. a refused
 * connection) is a failure of the service and counts against it. `fn` never starts for a call
 * already rejected or abandoned: a breaker that opened while the call waited refuses it, an abort
 * that arrives with the worker returns the worker unused. Errors are classified by where they
 * arose: whatever `fn` throws is the call's (it counts against the breaker and is never served by
 * the fallback), whatever its code.
 *
 * Telemetry: one span per call, `protect.call.start` then `protect.call.stop` (or
 * `protect.call.exception` with `metadata.error`), with `measurements.duration` and metadata
 * `protect` (the chain), `outcome` (`ok | refused | fallback | error`) and `stage` (the stage
 * that decided: the refusing one, or `'call'`). A fallback that fails is outcome `error`.
 *
 * @example
 * ```ts
 * const getQuote = protect({ name: 'quotes', limiter, breaker, pool: http, fallback: () => cachedQuote },
 *   (client, signal) => client.request({ path: '/quote', method: 'GET', signal }));
 * const quote = await getQuote({ key: clientIp });
 * ```
 */
export function protect<W, T, C extends ProtectCall = ProtectCall>(
  options: ProtectOptions<W, T>,
  fn: (worker: W, signal: AbortSignal, call: C) => T | Promise<T>,
): ProtectedFunction<T, C> {
  const fields = record('options', options);
  const name = nonEmptyString('name', fields.name);
  if (typeof fn !== 'function') throw new ConfigError('fn', fn, 'a function');
  if (options.fallback !== undefined && typeof options.fallback !== 'function') {
    throw new ConfigError('fallback', options.fallback, 'a function');
  }
  const checkoutTimeoutMs =
    options.checkoutTimeoutMs === undefined ? undefined : finiteNumber('checkoutTimeoutMs', options.checkoutTimeoutMs, 0, 0);
  const fallbackOn = resolveFallbackOn(options.fallbackOn);
  const { limiter, breaker, pool, fallback } = options;
  const keyOption = options.key ?? 'global';
  const clock = clockOption<Clock>('clock', fields.clock, systemClock);
  const telemetry = telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry);

  /** Runs `fn` on a worker already checked out, releasing it however `fn` ends. */
  const runLeased = (lease: Lease<W>, signal: AbortSignal, call: C): T | Promise<T> => {
    let result: T | Promise<T>;
    try {
      result = fn(lease.worker, signal, call);
    } catch (error) {
      lease.release();
      throw error;
    }
    if (!isThenable(result)) {
      lease.release();
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        lease.release();
        return value;
      },
      (error: unknown) => {
        lease.release();
        throw error;
      },
    );
  };

  /** The limiter when it answers synchronously (`hitSync`): decided once, so a hit costs no type test. */
  const memoryLimiter = limiter !== undefined && isMemoryLimiter(limiter) ? limiter : undefined;

  const checkoutOptions = (signal: AbortSignal | undefined): CheckoutOptions | undefined => {
    // Stryker disable next-line ConditionalExpression: { signal: undefined } and { timeoutMs: undefined } are the pool's defaults, the same checkout as no options; the tests only spare objects
    if (signal === undefined) return checkoutTimeoutMs === undefined ? undefined : { timeoutMs: checkoutTimeoutMs };
    // Stryker disable next-line ConditionalExpression: { timeoutMs: undefined, signal } is the same checkout as { signal } (an undefined timeoutMs is the pool's default)
    return checkoutTimeoutMs === undefined ? { signal } : { timeoutMs: checkoutTimeoutMs, signal };
  };

  /**
   * A checkout (made outside the breaker) failed: the pool's own refusals (full, timed out,
   * aborted, stopped) say nothing about the service, but a worker that could not be created (a
   * refused connection) does, so that failure is counted by the breaker as a failed call would be.
   * Rejects with the checkout's error either way.
   */
  const checkoutFailed = async (error: unknown): Promise<never> => {
    if (breaker !== undefined && !isPoolOwnError(error)) {
      await breaker.call(() => Promise.reject(error)).catch(ignore);
    }
    throw error;
  };

  const report = (outcome: ProtectOutcome, stage: ProtectionStage, started: number, error?: unknown): void => {
    const duration = { duration: clock.now() - started };
    if (outcome === 'ok' || outcome === 'fallback') telemetry.emit(TelemetryEvents.protectCallStop, duration, { protect: name, outcome, stage });
    else telemetry.emit(TelemetryEvents.protectCallException, duration, { protect: name, outcome, stage, error });
  };

  /** A refusal the fallback serves: its answer, or its error, or the caller's abort. */
  const serveFallback = async (refusal: unknown, stage: RefusingStage, signal: AbortSignal | undefined): Promise<T> => {
    if (signal?.aborted) throw new CallAbortedError(name, stage, signal.reason);
    return untilAborted(fallback!(refusal, stage), signal, () => new CallAbortedError(name, stage, signal!.reason));
  };

  const noCall = {} as C;
  const protectedFunction = async (call: C = noCall): Promise<T> => {
    const observed = telemetry.observed;
    const started = observed ? clock.now() : 0;
    // Stryker disable next-line ConditionalExpression: emit() itself does nothing when no one subscribes; the test only spares the metadata object (a speed path)
    if (observed) telemetry.emit(TelemetryEvents.protectCallStart, undefined, { protect: name });
    // Where the call is: an error is classified by the stage it arose in, not by what it says.
    let stage: ProtectionStage = 'limiter';
    let lease: Lease<W> | undefined;
    let fnStarted = false;
    let fnSignal: AbortSignal | undefined;
    let signal: AbortSignal | undefined;
    let controller: AbortController | undefined;
    try {
      if (typeof call !== 'object' || call === null) throw new ConfigError('call', call, 'an object { key?, cost?, signal?, controller? }');
      // Refused before any stage: a pool or a breaker refusing it would count against the service.
      // A real AbortSignal passes at once (duck-typing one reads three properties of an object V8
      // keeps in dictionary mode, a few hundred ns); anything else is checked by shape.
      // Stryker disable next-line ConditionalExpression,LogicalOperator: abortSignal() returns undefined and a real AbortSignal as they are; the test is a speed path only
      signal = call.signal === undefined || call.signal instanceof AbortSignal ? call.signal : abortSignal('call.signal', call.signal);
      controller = call.controller;
      if (controller !== undefined) {
        if (!(controller instanceof AbortController)) throw new ConfigError('call.controller', controller, 'an AbortController or undefined');
        if (signal !== undefined && signal !== controller.signal) throw new ConfigError('call.signal', signal, "undefined or call.controller's own signal");
        signal = controller.signal;
      }
      // Hot path (bench/service.bench.ts: protect.overhead, service.throughput): a memory limiter
      // answers synchronously, a closed breaker and an idle worker are taken without waiting; the one
      // await is on `fn` (and, with every worker busy, on the pool's own checkout promise).
      if (signal?.aborted) throw new CallAbortedError(name, stage, signal.reason);
      if (limiter !== undefined) {
        const key = call.key ?? (typeof keyOption === 'function' ? keyOption(call) : keyOption);
        const cost = call.cost ?? 1;
        const decision = memoryLimiter !== undefined ? memoryLimiter.hitSync(key, cost) : await limiter.hit(key, cost);
        if (!decision.allowed) throw RateLimitedError.refuse(limiter.name, decision.retryAfterMs, decision.reason);
      }
      stage = 'breaker';
      if (breaker !== undefined) {
        const state = breaker.state();
        if (state === 'open' || state === 'disabled') await breaker.call(admittedWhileRefusing);
      }
      if (pool !== undefined) {
        stage = 'pool';
        if (signal?.aborted) throw new CallAbortedError(name, stage, signal.reason);
        lease = pool.tryCheckout();
        if (lease === undefined) {
          // The wait for a worker, awaited here rather than in a helper of its own (one promise fewer per waiting call).
          try {
            lease = await pool.checkout(checkoutOptions(signal));
          } catch (error) {
            await checkoutFailed(error);
          }
        }
      }
      // The breaker admits (or refuses) the call only now; `fn` runs at once when admitted.
      stage = breaker === undefined ? 'call' : 'breaker';
      if (signal?.aborted) throw new CallAbortedError(name, stage, signal.reason);
      const leased = lease;
      let value: T;
      if (breaker === undefined) {
        // Stryker disable next-line BooleanLiteral: without a breaker the stage is already 'call', and runLeased has released the lease (release() is idempotent)
        fnStarted = true;
        const callSignal = signal ?? neverAborted;
        value = await (leased === undefined ? fn(undefined as W, callSignal, call) : runLeased(leased, callSignal, call));
      } else {
        value = await breaker.call(
          (breakerSignal) => {
            fnStarted = true;
            fnSignal = breakerSignal;
            return leased === undefined ? fn(undefined as W, breakerSignal, call) : runLeased(leased, breakerSignal, call);
          },
          // Stryker disable next-line ConditionalExpression: the breaker reads { signal: undefined } as no options (no signal, no controller); the test only spares an object
          controller !== undefined ? { controller } : signal === undefined ? undefined : { signal },
        );
      }
      if (observed) report('ok', 'call', started);
      return value;
    } catch (error) {
      // A worker taken for a call that never ran goes back; one `fn` got is released when `fn` settles.
      if (lease !== undefined && !fnStarted) lease.release();
      if (fnStarted && !isTimeoutOf(error, fnSignal)) stage = 'call';
      const refused = stage !== 'call' && isRefusal(error);
      if (!refused || fallback === undefined || !fallbackOn.has(stage as RefusingStage)) {
        if (observed) report(refused ? 'refused' : 'error', stage, started, error);
        throw error;
      }
      let answer: T;
      try {
        answer = await serveFallback(error, stage as RefusingStage, signal);
      } catch (fallbackError) {
        if (observed) report('error', stage, started, fallbackError);
        throw fallbackError;
      }
      if (observed) report('fallback', stage, started);
      return answer;
    }
  };
  return Object.assign(protectedFunction, { chain: name });
}
