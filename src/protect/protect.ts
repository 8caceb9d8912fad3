import type { Breaker } from '../breaker/index.js';
import type { Clock } from '../clock/index.js';
import { systemClock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { finiteNumber, nonEmptyString, record } from '../core/validate.js';
import type { Decision, MemoryRateLimiter, RateLimiter } from '../limiter/index.js';
import type { Lease, Pool } from '../pool/index.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';
import { RateLimitedError, isPoolRefusal, isRefusal, stageOf, type ProtectionStage } from './errors.js';

/** What one protected call may say about itself. */
export interface ProtectCall {
  /** The rate-limit key (a client, a tenant). Default: the `key` option, else `'global'`. */
  key?: string;
  /** Units this call costs against the limit. Default 1. */
  cost?: number;
  /** Aborting it abandons the call: a pool checkout stops waiting, the function's signal aborts. */
  signal?: AbortSignal;
}

/** The stages that may refuse a call before it runs. */
export type RefusingStage = Exclude<ProtectionStage, 'call'>;

/** Options of {@link protect}. Every stage is optional. */
export interface ProtectOptions<W, T> {
  /** Names the chain in telemetry. Required. */
  name: string;
  /** First stage: hits `key` for `cost` units; a denied hit is a `RateLimitedError`. */
  limiter?: RateLimiter;
  /** The limiter key when the call gives none: a constant, or computed from the call. Default `'global'`. */
  key?: string | ((call: ProtectCall) => string);
  /** Second stage: the call runs through it; `BreakerOpenError` when it refuses. */
  breaker?: Breaker;
  /** Third stage: a worker is checked out for the call and released after it. */
  pool?: Pool<W>;
  /** How long the pool checkout may wait. Default the pool's own. */
  checkoutTimeoutMs?: number;
  /**
   * Graceful degradation: called instead of failing when a stage in `fallbackOn` refuses (rate
   * limited, breaker open, no worker free; not when the call itself fails or times out), with the
   * refusal and the stage; its answer (a cached or default value) is the call's result.
   */
  fallback?: (refusal: unknown, stage: RefusingStage) => T | Promise<T>;
  /** Which refusals the fallback serves. Default `['limiter', 'breaker']`. */
  fallbackOn?: readonly RefusingStage[];
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/** A protected function: each invocation is one protected call. */
export interface ProtectedFunction<T, C extends ProtectCall = ProtectCall> {
  (call?: C): Promise<T>;
  /** The chain's name. */
  readonly chain: string;
}

/** How a protected call ended, as its telemetry reports it. */
export type ProtectOutcome = 'ok' | 'refused' | 'fallback' | 'error';

const neverAborted: AbortSignal = new AbortController().signal;

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null | undefined)?.then === 'function';
}

function isMemoryLimiter(limiter: RateLimiter): limiter is MemoryRateLimiter {
  return typeof (limiter as Partial<MemoryRateLimiter>).hitSync === 'function';
}


/**
 * Puts a function behind the protection chain: rate limit → circuit breaker → pool checkout →
 * `fn(worker, signal, call)`, each stage optional; `call` is what the protected function was
 * invoked with (extend {@link ProtectCall} with your own fields to pass arguments through). A refusal rejects with the refusing stage's typed
 * error (`RateLimitedError`, `BreakerOpenError`, `PoolFullError`/`PoolTimeoutError`), each with a
 * `code` and, where known, `retryAfterMs`; `stageOf(error)` names the stage. A full pool is
 * neutral to the breaker: it neither opens nor closes it. With `fallback`, refusals by the stages
 * in `fallbackOn` are answered by it instead.
 *
 * Telemetry: one span per call, `protect.call.start` then `protect.call.stop` (or
 * `protect.call.exception` with `metadata.error`), with `measurements.duration` and metadata
 * `protect` (the chain), `outcome` (`ok | refused | fallback | error`) and `stage` (the stage
 * that decided: the refusing one, or `'call'`).
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
  const fallbackOn = new Set<RefusingStage>(options.fallbackOn ?? ['limiter', 'breaker']);
  const { limiter, breaker, pool, fallback } = options;
  const keyOption = options.key ?? 'global';
  const clock = options.clock ?? systemClock;
  const telemetry = options.telemetry ?? sharedTelemetry;

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

  /** The pool stage, inside the breaker: waits for a worker when none is idle. */
  const runWithWorker = (signal: AbortSignal, call: C): T | Promise<T> => {
    if (pool === undefined) return fn(undefined as W, signal, call);
    const checkout = pool.checkout({
      ...(checkoutTimeoutMs === undefined ? {} : { timeoutMs: checkoutTimeoutMs }),
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    });
    return checkout.then((lease) => runLeased(lease, signal, call));
  };

  const runAfterLimiter = (call: C): T | Promise<T> => {
    // Hot path (bench/service.bench.ts, protect.overhead): with the breaker closed and a worker
    // idle, the worker is taken synchronously and the breaker runs its fast path; the order of
    // the stages is unchanged in effect (a closed breaker admits every call).
    if (pool !== undefined && (breaker === undefined || breaker.state() === 'closed')) {
      const lease = pool.tryCheckout();
      if (lease !== undefined) {
        if (breaker === undefined) return runLeased(lease, call.signal ?? neverAborted, call);
        return breaker.call((signal) => runLeased(lease, signal, call), call.signal === undefined ? undefined : { signal: call.signal });
      }
    }
    if (breaker === undefined) return runWithWorker(call.signal ?? neverAborted, call);
    return breaker.call((signal) => runWithWorker(signal, call), {
      ...(pool === undefined ? {} : { neutral: isPoolRefusal }),
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    });
  };

  const limited = (decision: Decision, call: C): T | Promise<T> => {
    if (!decision.allowed) throw new RateLimitedError(limiter!.name, decision.retryAfterMs, decision.reason);
    return runAfterLimiter(call);
  };

  const run = (call: C): T | Promise<T> => {
    if (limiter === undefined) return runAfterLimiter(call);
    const key = call.key ?? (typeof keyOption === 'function' ? keyOption(call) : keyOption);
    const cost = call.cost ?? 1;
    if (isMemoryLimiter(limiter)) return limited(limiter.hitSync(key, cost), call);
    return limiter.hit(key, cost).then((decision) => limited(decision, call));
  };

  const settleRefusal = (error: unknown): { value: T | Promise<T> } | undefined => {
    const stage = stageOf(error);
    if (fallback === undefined || stage === 'call' || !isRefusal(error) || !fallbackOn.has(stage)) return undefined;
    return { value: fallback(error, stage) };
  };

  const noCall = {} as C;
  const protectedFunction = async (call: C = noCall): Promise<T> => {
    const observed = telemetry.observed;
    const started = observed ? clock.now() : 0;
    const metadata = observed ? { protect: name } : undefined;
    if (observed) telemetry.emit('protect.call.start', undefined, metadata);
    let outcome: ProtectOutcome = 'ok';
    let stage: ProtectionStage = 'call';
    try {
      const result = await run(call);
      return result;
    } catch (error) {
      stage = stageOf(error);
      const served = settleRefusal(error);
      if (served) {
        outcome = 'fallback';
        return await served.value;
      }
      outcome = isRefusal(error) ? 'refused' : 'error';
      if (observed) {
        telemetry.emit(
          'protect.call.exception',
          { duration: clock.now() - started },
          { protect: name, outcome, stage, error },
        );
      }
      throw error;
    } finally {
      if (observed && outcome !== 'error' && outcome !== 'refused') {
        telemetry.emit('protect.call.stop', { duration: clock.now() - started }, { protect: name, outcome, stage });
      }
    }
  };
  return Object.assign(protectedFunction, { chain: name });
}
