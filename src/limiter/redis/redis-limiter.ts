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
import { limiterScript, type LimiterScript } from './scripts.js';

/**
 * A parsed script reply (the count when admitted, `[retryAfterMs, used]` when denied), or
 * `undefined` when the reply has an unexpected shape.
 */
function decisionOf(reply: unknown, decisions: AdmittedDecisions): { decision: Decision; used: number } | undefined {
  if (typeof reply === 'number') {
    return Number.isSafeInteger(reply) && reply > 0 && reply <= decisions.limit ? { decision: decisions.of(reply), used: reply } : undefined;
  }
  if (Array.isArray(reply) && reply.length === 2) {
    const retryAfterMs = Number(reply[0]);
    return Number.isFinite(retryAfterMs) && retryAfterMs >= 0 ? { decision: limitExceeded(retryAfterMs), used: Number(reply[1]) } : undefined;
  }
  return undefined;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * The Redis limiter behind {@link createRedisRateLimiter}: one `EVALSHA` per hit (an `EVAL` the
 * first time a server lacks the script), bounded by `timeoutMs`.
 */
export class RedisLimiter implements RedisRateLimiter {
  readonly name: string;
  private options: ResolvedRedisLimiterOptions;
  private readonly keyspace: Keyspace;
  private script!: LimiterScript;
  private decisions!: AdmittedDecisions;
  private readonly pending: Deadlines;

  constructor(options: RedisLimiterOptions) {
    this.options = resolveRedisLimiterOptions(options);
    this.pending = new Deadlines(this.options.timers, this.options.timeoutMs);
    this.name = this.options.name;
    this.keyspace = new Keyspace(this.options.prefix, this.options.name);
    this.applyNumbers();
  }

  reconfigure(patch: LimiterReconfiguration): void {
    this.options = reconfigured(this.options, patch);
    this.applyNumbers();
  }

  private applyNumbers(): void {
    const { algorithm, limit, windowMs, clock } = this.options;
    if (this.decisions?.limit !== limit) this.decisions = new AdmittedDecisions(limit);
    // With Redis's clock, expiries are exact (rounded up, plus 1 ms for the time the script takes
    // to start). With the caller's clock, Redis still expires keys on its own clock, which may run
    // ahead of the caller's: keeping each key a window longer stops Redis from dropping a state
    // that the caller's clock still counts.
    const grace = clock === undefined ? 1 : Math.ceil(windowMs);
    this.script = limiterScript(algorithm, { limit, windowMs, grace, redisClock: clock === undefined });
  }

  hit(key: string, cost = 1): Promise<Decision> {
    // Hot path (bench/limiter.bench.ts, case limiter.redis@64): the key, two or three short
    // strings, one pending entry on the shared deadline queue, one EVALSHA.
    let args: string[];
    try {
      checkKey(key);
      if (cost !== 1) checkCost(cost);
      if (cost > this.options.limit) return Promise.resolve(this.report(key, costExceedsLimit(), cost, 0));
      const { clock } = this.options;
      const redisKey = this.keyspace.keyOf(key);
      args = clock === undefined ? [redisKey, String(cost)] : [redisKey, String(cost), String(clock.now())];
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Decision>((resolve, reject) => {
      new PendingHit(this, key, cost, args, resolve, reject).start();
    });
  }

  reset(key: string): Promise<void> {
    try {
      checkKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    const { redis, timers, timeoutMs, insurance } = this.options;
    if (insurance !== undefined) void insurance.reset(key);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = timers.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new LimiterUnavailableError(this.name, 'timeout', `Redis did not answer a reset within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        timers.clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(new LimiterUnavailableError(this.name, 'error', `Redis failed a reset: ${describe(error)}`, error));
      };
      try {
        redis.del(this.keyspace.keyOf(key)).then(() => done(), (error: unknown) => done(error ?? 'error'));
      } catch (error) {
        done(error ?? 'error');
      }
    });
  }

  // ---------------------------------------------------------------- used by PendingHit

  /** @internal Sends a hit's script call; `script` is the one in force when the hit started. */
  send(script: LimiterScript, args: string[], load: boolean): Promise<unknown> {
    const { redis } = this.options;
    return load ? redis.eval(script.source, 1, ...args) : redis.evalsha(script.sha1, 1, ...args);
  }

  /** @internal The script and decisions a hit starting now uses (a reconfigure changes them for later hits). */
  get current(): { script: LimiterScript; decisions: AdmittedDecisions } {
    return { script: this.script, decisions: this.decisions };
  }

  /** @internal `decisions` are those of the limit in force when the hit started. */
  answer(reply: unknown, key: string, cost: number, decisions: AdmittedDecisions): Decision | undefined {
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One hit on its way to Redis: settles exactly once, with Redis's decision, or after `timeoutMs`
 * or a Redis error with the insurance's decision or a {@link LimiterUnavailableError}. A reply
 * arriving after the timeout is dropped (Redis has counted that hit; the caller was told otherwise).
 */
class PendingHit implements Waiting {
  settled = false;
  deadline = 0;
  private loaded = false;
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
    this.limiter.deadlines.add(this);
    this.send();
  }

  expire(): void {
    this.fail(new LimiterUnavailableError(this.limiter.name, 'timeout', `Redis did not answer within ${this.limiter.timeoutMs} ms`), true);
  }

  private send(): void {
    let reply: Promise<unknown>;
    try {
      reply = this.limiter.send(this.script, this.args, this.loaded);
    } catch (error) {
      this.failWith(error);
      return;
    }
    reply.then(
      (value) => this.succeed(value),
      (error: unknown) => {
        if (!this.loaded && isNoScript(error)) {
          // A fresh server (or one restarted) lacks the script: EVAL loads it, once per server.
          this.loaded = true;
          if (!this.settled) this.send();
          return;
        }
        this.failWith(error);
      },
    );
  }

  private succeed(reply: unknown): void {
    if (this.settled) return;
    const decision = this.limiter.answer(reply, this.key, this.cost, this.decisions);
    if (decision === undefined) {
      this.fail(new LimiterUnavailableError(this.limiter.name, 'error', `unexpected reply from Redis: ${JSON.stringify(reply)}`), false);
      return;
    }
    this.settle(false);
    this.resolve(decision);
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
 * @example
 * ```ts
 * const api = createRedisRateLimiter({ name: 'api', algorithm: 'token_bucket', limit: 100, windowMs: 60_000, redis: new Redis() });
 * const decision = await api.hit(`user:${userId}`);
 * ```
 */
export function createRedisRateLimiter(options: RedisLimiterOptions): RedisRateLimiter {
  return new RedisLimiter(options);
}
