import { randomBytes } from 'node:crypto';
import { describeValue } from '../../core/index.js';
import { TelemetryEvents } from '../../telemetry/index.js';
import { AdmittedDecisions, costExceedsLimit, limitExceeded, type Decision } from '../decision.js';
import { LimiterUnavailableError } from '../errors.js';
import { checkCost, checkKey } from '../hit-arguments.js';
import { reportHit } from '../limiter-telemetry.js';
import { reconfigured, type LimiterReconfiguration } from '../options.js';
import type { RedisRateLimiter } from '../rate-limiter.js';
import { Deadlines, type Waiting } from './deadlines.js';
import { Keyspace } from './keyspace.js';
import { resolveRedisLimiterOptions, type RedisLimiterOptions, type ResolvedRedisLimiterOptions } from './redis-options.js';
import { RedisClockEstimate } from './redis-time.js';
import { limiterScript, type LimiterScript } from './scripts.js';

/**
 * The share of `timeoutMs` within which Redis must run a hit: the script refuses a hit later than
 * that (by Redis's clock), leaving the rest of `timeoutMs` for the reply to come back, so a hit
 * Redis counts is one whose answer the caller gets (see `scripts.ts`, "Delivery").
 */
export const REDIS_SHARE_OF_TIMEOUT = 0.75;

/** How many times a hit is sent again after Redis refused it as late while it still had time (a stale clock estimate). */
const LATE_RETRIES = 2;

/**
 * How old the estimate of Redis's time may grow before a hit asks for Redis's time again with its
 * answer (late and denied answers always bring it). Clocks drift apart by well under 1 ms a second.
 */
const REDIS_TIME_MAX_AGE_MS = 1000;

/**
 * The Redis time a script reply carries: a number ≥ 0; `undefined` for an admitted reply that
 * carries none (a bare count); NaN when the reply has no valid shape (an empty array too: it has
 * no last element).
 */
function redisTimeOf(reply: unknown): number | undefined {
  if (typeof reply === 'number') return undefined;
  if (!Array.isArray(reply) || reply.length > 3) return Number.NaN;
  const time: unknown = reply[reply.length - 1];
  return typeof time === 'number' && Number.isSafeInteger(time) && time >= 0 ? time : Number.NaN;
}

/**
 * A parsed decision reply (`count` or `[count, time]` admitted, `[retryAfterMs, used, time]`
 * denied; redisTimeOf has checked the shape), or `undefined` when its figures are off.
 */
function decisionOf(reply: number | unknown[], decisions: AdmittedDecisions): { decision: Decision; used: number } | undefined {
  if (typeof reply === 'number' || reply.length === 2) {
    const count = typeof reply === 'number' ? reply : reply[0];
    return typeof count === 'number' && Number.isSafeInteger(count) && count > 0 && count <= decisions.limit
      ? { decision: decisions.of(count), used: count }
      : undefined;
  }
  const retryAfterMs = Number(reply[0]);
  const used = Number(reply[1]);
  return typeof reply[0] === 'string' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0 && Number.isFinite(used)
    ? { decision: limitExceeded(retryAfterMs), used }
    : undefined;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Whether a client method's return value is the promise (or thenable) `RedisLike` requires. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * The Redis limiter behind {@link createRedisRateLimiter}: one `EVALSHA` per hit (an `EVAL` the
 * first time a server lacks the script), bounded by `timeoutMs`. Each hit carries an id (its
 * record key) and a deadline in Redis time, so that Redis counts it at most once and only while
 * its caller still waits for Redis's answer.
 */
export class RedisLimiter implements RedisRateLimiter {
  readonly name: string;
  private options: ResolvedRedisLimiterOptions;
  private readonly keyspace: Keyspace;
  private script!: LimiterScript;
  private decisions!: AdmittedDecisions;
  private readonly pending: Deadlines;
  private readonly redisClock = new RedisClockEstimate();
  /** Hit ids are this, unique to the limiter (72 random bits), then a sequence number. */
  private readonly instance = randomBytes(9).toString('base64url');
  private sequence = 0;
  /** @internal How long after it starts a hit must have run in Redis. */
  readonly budgetMs: number;

  constructor(options: RedisLimiterOptions) {
    this.options = resolveRedisLimiterOptions(options);
    this.pending = new Deadlines(this.options.timers, this.options.timeoutMs);
    this.name = this.options.name;
    this.keyspace = new Keyspace(this.options.prefix, this.options.name);
    this.budgetMs = this.options.timeoutMs * REDIS_SHARE_OF_TIMEOUT;
    this.applyNumbers();
  }

  reconfigure(patch: LimiterReconfiguration): void {
    this.options = reconfigured(this.options, patch);
    this.applyNumbers();
  }

  private applyNumbers(): void {
    const { algorithm, limit, windowMs, clock, timeoutMs } = this.options;
    if (this.decisions?.limit !== limit) this.decisions = new AdmittedDecisions(limit);
    // With Redis's clock, expiries are exact (rounded up, plus 1 ms for the time the script takes
    // to start). With the caller's clock, Redis still expires keys on its own clock, which may run
    // ahead of the caller's: keeping each key a window longer stops Redis from dropping a state
    // that the caller's clock still counts.
    const grace = clock === undefined ? 1 : Math.ceil(windowMs);
    // A record outlives every resend its caller could still be waiting for: a hit runs at the
    // earliest when it starts, and its caller stops waiting timeoutMs after that.
    const keepMs = Math.ceil(timeoutMs) + 1;
    this.script = limiterScript(algorithm, { limit, windowMs, grace, keepMs, redisClock: clock === undefined });
  }

  hit(key: string, cost = 1): Promise<Decision> {
    // Hot path (bench/limiter.bench.ts, case limiter.redis@64): the key, its record key, a few
    // short strings, one pending entry on the shared deadline queue, one EVALSHA.
    let args: string[];
    try {
      checkKey(key);
      if (cost !== 1) checkCost(cost);
      if (cost > this.options.limit) return Promise.resolve(this.report(key, costExceedsLimit(), cost, 0));
      const { clock } = this.options;
      const redisKey = this.keyspace.keyOf(key);
      const record = this.keyspace.recordOf(redisKey, this.instance + (this.sequence++).toString(36));
      // args[3] and args[4], the deadline and whether to tell Redis's time, are set at each send.
      // Stryker disable next-line StringLiteral: the two placeholders are overwritten by every send before the client sees them
      args = clock === undefined ? [redisKey, record, String(cost), '', ''] : [redisKey, record, String(cost), '', '', String(clock.now())];
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Decision>((resolve, reject) => {
      new PendingHit(this, key, cost, args, resolve, reject).start();
    });
  }

  reset(key: string): Promise<void> {
    try {
      checkKey(key, 'reset');
    } catch (error) {
      return Promise.reject(error);
    }
    const { redis, timers, timeoutMs, insurance } = this.options;
    if (insurance !== undefined) void insurance.reset(key);
    return new Promise<void>((resolve, reject) => {
      // Settled by Redis's answer, its error, or the timer: whichever comes first. Redis's answer
      // clears the timer; an answer after the timer fired settles nothing (a promise settles once).
      const timer = timers.setTimeout(() => {
        reject(new LimiterUnavailableError(this.name, 'timeout', `Redis did not answer a reset within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (error?: unknown): void => {
        timers.clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(new LimiterUnavailableError(this.name, 'error', `Redis failed a reset: ${describe(error)}`, error));
      };
      try {
        const reply: unknown = redis.del(this.keyspace.keyOf(key));
        if (!isThenable(reply)) throw new TypeError(notAPromise('del', reply));
        reply.then(
          () => done(),
          (error: unknown) => done(error ?? 'error'),
        );
      } catch (error) {
        done(error ?? 'error');
      }
    });
  }

  // ---------------------------------------------------------------- used by PendingHit

  /**
   * @internal Sends a hit's script call; `script` is the one in force when the hit started. Throws
   * a `TypeError` when the client answers with something other than a promise.
   */
  send(script: LimiterScript, args: string[], load: boolean): PromiseLike<unknown> {
    const { redis } = this.options;
    const reply: unknown = load ? redis.eval(script.source, 2, ...args) : redis.evalsha(script.sha1, 2, ...args);
    if (!isThenable(reply)) throw new TypeError(notAPromise(load ? 'eval' : 'evalsha', reply));
    return reply;
  }

  /** @internal The Redis time by which a hit that started at `startedAt` (limiter's clock) must run. */
  deadlineOf(startedAt: number): number {
    return this.redisClock.deadline(startedAt, this.budgetMs);
  }

  /** @internal Whether a hit that started at `startedAt` should ask Redis for its time. */
  wantsRedisTime(startedAt: number): boolean {
    return this.redisClock.olderThan(startedAt, REDIS_TIME_MAX_AGE_MS);
  }

  /** @internal A reply carried Redis's time; returns the limiter's clock now. */
  observe(redisTime: number): number {
    const now = this.options.timers.now();
    this.redisClock.observe(redisTime, now);
    return now;
  }

  /** @internal The script and decisions a hit starting now uses (a reconfigure changes them for later hits). */
  get current(): { script: LimiterScript; decisions: AdmittedDecisions } {
    return { script: this.script, decisions: this.decisions };
  }

  /** @internal `decisions` are those of the limit in force when the hit started. */
  answer(reply: number | unknown[], key: string, cost: number, decisions: AdmittedDecisions): Decision | undefined {
    const parsed = decisionOf(reply, decisions);
    if (parsed === undefined) return undefined;
    return this.report(key, parsed.decision, cost, parsed.used);
  }

  /** @internal What a hit that Redis could not decide settles with: the insurance's decision, or the error. */
  fallBack(key: string, cost: number, error: LimiterUnavailableError): Decision | LimiterUnavailableError {
    const insurance = this.options.insurance;
    const { telemetry } = this.options;
    if (telemetry.observed) {
      telemetry.emit(TelemetryEvents.limiterUnavailable, undefined, {
        limiter: this.name,
        reason: error.reason,
        insured: insurance !== undefined,
        error,
      });
    }
    if (insurance === undefined) return error;
    return insurance.hitSync(key, cost);
  }

  /** @internal The timeouts of the hits in flight, on one timer. */
  get deadlines(): Deadlines {
    return this.pending;
  }

  /** @internal */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  private report(key: string, decision: Decision, cost: number, used: number): Decision {
    const { telemetry } = this.options;
    if (telemetry.observed) reportHit(telemetry, this.name, this.options.telemetryKeys ? key : undefined, decision, cost, used);
    return decision;
  }
}

/** A failure's text for a message: an error's message, else the value; never throws (a client may reject with anything). */
function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return describeValue(error);
  }
}

function notAPromise(method: string, value: unknown): string {
  return `redis.${method} returned ${describeValue(value)} instead of a promise (see RedisLike)`;
}

/**
 * One hit on its way to Redis: settles exactly once, with Redis's decision, or after `timeoutMs`
 * or a Redis error with the insurance's decision or a {@link LimiterUnavailableError}.
 *
 * Its deadline in Redis time is `budgetMs` after it started (by the limiter's estimate of Redis's
 * clock, which errs early), so Redis runs it only while the caller still waits; a reply arriving
 * after the timeout is then one for a hit Redis ran in time but whose answer was held up on the
 * way, which no deadline can prevent. A reply saying the hit came too late settles it at once from
 * the insurance, unless it still has time, when it is sent again with a deadline built from the
 * Redis time that reply carried (the first hits of a limiter learn Redis's time that way).
 */
class PendingHit implements Waiting {
  settled = false;
  deadline = 0;
  private loaded = false;
  private lateRetries = 0;
  private startedAt = 0;
  private readonly script: LimiterScript;
  private readonly decisions: AdmittedDecisions;

  constructor(
    private readonly limiter: RedisLimiter,
    private readonly key: string,
    private readonly cost: number,
    private readonly args: string[],
    private readonly resolve: (decision: Decision) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    ({ script: this.script, decisions: this.decisions } = limiter.current);
  }

  start(): void {
    this.startedAt = this.limiter.deadlines.add(this);
    this.send();
  }

  expire(): void {
    // Stryker disable next-line BooleanLiteral: deadlines.settled() while the queue expires this hit only drops settled waits, as the expiring loop does next
    this.fail(new LimiterUnavailableError(this.limiter.name, 'timeout', `Redis did not answer within ${this.limiter.timeoutMs} ms`), true);
  }

  private send(): void {
    try {
      this.args[3] = String(this.limiter.deadlineOf(this.startedAt));
      this.args[4] = this.limiter.wantsRedisTime(this.startedAt) ? 't' : '';
      this.limiter.send(this.script, this.args, this.loaded).then(this.onReply, this.onError);
    } catch (error) {
      this.failWith(error);
    }
  }

  private readonly onReply = (reply: unknown): void => this.succeed(reply);

  private readonly onError = (error: unknown): void => {
    if (!this.loaded && isNoScript(error)) {
      // A fresh server (or one restarted) lacks the script: EVAL loads it, once per server.
      this.loaded = true;
      if (!this.settled) this.send();
      return;
    }
    this.failWith(error);
  };

  private succeed(reply: unknown): void {
    const redisTime = redisTimeOf(reply);
    // A reply that tells Redis's time teaches it, even one for a hit settled already.
    const now = redisTime === undefined || Number.isNaN(redisTime) ? Number.NaN : this.limiter.observe(redisTime);
    if (this.settled) return;
    if (Number.isNaN(redisTime)) {
      this.fail(new LimiterUnavailableError(this.limiter.name, 'error', `unexpected reply from Redis: ${JSON.stringify(reply)}`), false);
      return;
    }
    if ((reply as unknown[]).length === 1) {
      this.late(now);
      return;
    }
    const decision = this.limiter.answer(reply as number | unknown[], this.key, this.cost, this.decisions);
    if (decision === undefined) {
      this.fail(new LimiterUnavailableError(this.limiter.name, 'error', `unexpected reply from Redis: ${JSON.stringify(reply)}`), false);
      return;
    }
    this.settle(false);
    this.resolve(decision);
  }

  /** Redis refused the hit as past its deadline, and counted nothing. */
  private late(now: number): void {
    if (this.lateRetries < LATE_RETRIES && now - this.startedAt < this.limiter.budgetMs) {
      this.lateRetries += 1;
      this.send();
      return;
    }
    const share = `${REDIS_SHARE_OF_TIMEOUT * 100} % of timeoutMs`;
    this.fail(new LimiterUnavailableError(this.limiter.name, 'timeout', `Redis ran the hit too late to count it (after ${share})`), false);
  }

  private failWith(error: unknown): void {
    this.fail(new LimiterUnavailableError(this.limiter.name, 'error', `Redis failed: ${describe(error)}`, error), false);
  }

  private fail(error: LimiterUnavailableError, expired: boolean): void {
    if (this.settled) return;
    this.settle(expired);
    let outcome: Decision | LimiterUnavailableError;
    try {
      outcome = this.limiter.fallBack(this.key, this.cost, error);
    } catch (insuranceError) {
      this.reject(insuranceError);
      return;
    }
    if (outcome instanceof LimiterUnavailableError) this.reject(outcome);
    else this.resolve(outcome);
  }

  /** Marks it settled; unless the queue is expiring it right now, lets the queue know. */
  private settle(expired: boolean): void {
    this.settled = true;
    if (!expired) this.limiter.deadlines.settled();
  }
}

/**
 * Creates a rate limiter whose counts live in Redis, shared by every instance of a service that
 * uses the same Redis, `prefix` and `name`: one round trip per hit, atomic (a Lua script per
 * algorithm, with the same formulas as the embedded limiter, so both decide alike).
 *
 * Whose clock: by default the scripts read Redis's own clock (`TIME`), so every instance judges
 * time alike and together they enforce one global limit, whatever their own clocks say. Give
 * `clock` to use yours instead (specs do, with a test clock); then every instance sharing the keys
 * must share that clock's origin, and keys are kept `windowMs` longer in Redis, since Redis
 * expires them on its own clock.
 *
 * When Redis fails or does not answer within `timeoutMs`, `hit` settles anyway: with the
 * `insurance` limiter's decision when one is configured, else rejecting with
 * `LimiterUnavailableError`. It never hangs and never throws synchronously. Keys are stored under
 * `prefix` (see `Keyspace` in `src/limiter/redis/keyspace.ts`); over-long keys as a digest.
 *
 * Correct with any client options (ioredis's defaults included): a hit carries an id, so a resend
 * of a hit Redis ran (ioredis's `autoResendUnfulfilledCommands`) is answered from its record
 * without counting twice, and a deadline in Redis time, 3/4 of `timeoutMs` after it started, so a
 * hit reaching Redis later (from an offline queue, behind a paused server) after the insurance
 * decided it counts nothing (see `scripts.ts`, "Delivery").
 *
 * @example
 * ```ts
 * const api = createRedisRateLimiter({ name: 'api', algorithm: 'token_bucket', limit: 100, windowMs: 60_000, redis: new Redis() });
 * const decision = await api.hit(`user:${userId}`);
 * ```
 */
export function createRedisRateLimiter(options: RedisLimiterOptions): RedisRateLimiter {
  return new RedisLimiter(options);
}
