import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  createRedisRateLimiter,
  createTelemetry,
  createTestClock,
  LimiterUnavailableError,
  type MemoryRateLimiter,
  type RedisLike,
  type TelemetryEvent,
  type TestClock,
} from '../../../src/index.js';
import { limiterScript, type ScriptConfig } from '../../../src/limiter/redis/scripts.js';

/**
 * The Redis limiter's edges that only a client can show: replies Redis never gives, errors and
 * replies that arrive after a hit settled, the exact errors it settles with, the script it sends.
 * A fake client records every call and lets the spec answer it (Redis's own behaviour is covered
 * by redis.spec.ts and redis-delivery.spec.ts).
 */

interface Call {
  readonly command: 'evalsha' | 'eval' | 'del';
  readonly args: unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A fake client whose every call waits for the spec to answer it. */
function fakeRedis() {
  const calls: Call[] = [];
  const record =
    (command: Call['command']) =>
    (...args: unknown[]): Promise<unknown> =>
      new Promise((resolve, reject) => calls.push({ command, args, resolve, reject }));
  const redis: RedisLike = { evalsha: record('evalsha'), eval: record('eval'), del: record('del') };
  return { redis, calls };
}

/** Redis's clock in these specs: every script reply ends with it. */
const REDIS_NOW = 1_700_000_000_000;

const NOSCRIPT = (): Error => new Error('NOSCRIPT No matching script. Please use EVAL.');

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** A memory limiter on `clock` to insure the Redis limiter with; stopped after the test. */
function insuranceOn(clock: TestClock, limit: number): MemoryRateLimiter {
  const insurance = createRateLimiter({ name: 'api-insurance', limit, windowMs: 10_000, clock });
  stops.push(() => insurance.stop());
  return insurance;
}

/**
 * A Redis limiter 'api' (limit 5, windowMs 1000, timeoutMs 200) on a fake client, a test clock
 * (`extra.clock`, else a fresh one) and a recorded telemetry.
 */
function limiterOn(redis: RedisLike, extra: { clock?: TestClock; insurance?: MemoryRateLimiter } = {}) {
  const clock = extra.clock ?? createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const limiter = createRedisRateLimiter({ name: 'api', limit: 5, windowMs: 1000, redis, clock, telemetry, timeoutMs: 200, insurance: extra.insurance });
  const named = (name: string) => events.filter((event) => event.name === name);
  return { limiter, clock, events, named };
}

/** Lets a fresh limiter learn Redis's time (its first hit is refused as late, then admitted), then forgets those calls. */
async function prime(limiter: { hit(key: string): Promise<unknown> }, calls: Call[]): Promise<void> {
  const first = limiter.hit('prime');
  calls.at(-1)!.resolve([REDIS_NOW]);
  await flush();
  calls.at(-1)!.resolve([1, REDIS_NOW]);
  await first;
  calls.length = 0;
}

/** What a promise settles with: `{ value }`, or the error itself under `error`. */
async function outcomeOf<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/** What a promise has settled with once pending callbacks have run, or `'pending'`. */
async function settledByNow<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let outcome: { value: T } | { error: unknown } | 'pending' = 'pending';
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  await flush();
  return outcome;
}

describe('the Redis limiter checking the shape of a script reply', () => {
  async function answeredWith(reply: unknown) {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    await prime(limiter, calls);
    const outcome = outcomeOf(limiter.hit('a'));
    calls[0]!.resolve(reply);
    return { outcome: await outcome, clock };
  }

  it.each([
    ['a four-element reply, even one that begins like a denial', ['250', 5, 7, REDIS_NOW], '["250",5,7,1700000000000]'],
    ['an admitted count whose time is not a number', [1, 'x'], '[1,"x"]'],
    ['an admitted count whose time is negative', [1, -1], '[1,-1]'],
    ['an admitted count whose time is fractional', [1, 1.5], '[1,1.5]'],
    ['a bare count above the limit', 6, '6'],
    ['a count of 0 with a time', [0, REDIS_NOW], '[0,1700000000000]'],
    ['a denial with a negative retryAfterMs', ['-5', 5, REDIS_NOW], '["-5",5,1700000000000]'],
  ])('rejects %s with reason error, naming the reply, and lets its timer go', async (_, reply, shown) => {
    const { outcome, clock } = await answeredWith(reply);
    expect(outcome).toEqual({ error: expect.any(LimiterUnavailableError) });
    const error = (outcome as { error: LimiterUnavailableError }).error;
    expect(error.reason).toBe('error');
    expect(error.message).toBe(`limiter 'api' is unavailable: unexpected reply from Redis: ${shown}`);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a reply that carries no time, naming it, and lets its timer go', async () => {
    const { outcome, clock } = await answeredWith('OK');
    const error = (outcome as { error: LimiterUnavailableError }).error;
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(error.reason).toBe('error');
    expect(error.message).toBe(`limiter 'api' is unavailable: unexpected reply from Redis: "OK"`);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('takes a denial with retryAfterMs 0 as a denial to retry at once', async () => {
    const { outcome } = await answeredWith(['0', 5, REDIS_NOW]);
    expect(outcome).toEqual({ value: { allowed: false, retryAfterMs: 0, reason: 'limit_exceeded' } });
  });

  it('learns no Redis time from a reply of the wrong shape', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    await prime(limiter, calls);
    const rejected = outcomeOf(limiter.hit('a'));
    calls[0]!.resolve(['1', 0, 0, REDIS_NOW + 50_000]);
    await rejected;
    void limiter.hit('b').catch(() => undefined);
    // EVALSHA's arguments: sha1, numKeys, key, record, cost, deadline, …. The deadline still comes
    // from the time the priming reply told: 3/4 of timeoutMs after it.
    expect(calls[1]!.args[5]).toBe(String(REDIS_NOW + 150));
  });
});

describe('the Redis limiter after a hit settled', () => {
  it('sends no EVAL for a hit that timed out before NOSCRIPT came back', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    await prime(limiter, calls);
    const outcome = outcomeOf(limiter.hit('a'));
    clock.advance(200);
    await outcome;
    calls[0]!.reject(NOSCRIPT());
    await flush();
    expect(calls.map((call) => call.command)).toEqual(['evalsha']);
  });

  it('reports no limiter.hit for a decision that arrives after the timeout', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock, named } = limiterOn(redis);
    await prime(limiter, calls);
    const hitsBefore = named('limiter.hit').length;
    const outcome = outcomeOf(limiter.hit('a'));
    clock.advance(200);
    await outcome;
    calls[0]!.resolve([2, REDIS_NOW]);
    await flush();
    expect(named('limiter.hit')).toHaveLength(hitsBefore);
    expect(named('limiter.unavailable')).toHaveLength(1);
  });

  it('lets an error that arrives after the timeout change nothing: one report, one insured hit', async () => {
    const { redis, calls } = fakeRedis();
    const clock = createTestClock();
    const insurance = insuranceOn(clock, 3);
    const { limiter, named } = limiterOn(redis, { clock, insurance });
    const outcome = limiter.hit('a');
    clock.advance(200);
    expect(await outcome).toEqual({ allowed: true, count: 1, remaining: 2 });
    calls[0]!.reject(new Error('ECONNRESET'));
    await flush();
    expect(named('limiter.unavailable').map((event) => event.metadata.reason)).toEqual(['timeout']);
    expect(insurance.hitSync('a')).toEqual({ allowed: true, count: 2, remaining: 1 });
  });
});

describe('the Redis limiter settling without Redis', () => {
  it('says which share of timeoutMs a hit refused as late missed', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    await prime(limiter, calls);
    const outcome = outcomeOf(limiter.hit('a'));
    clock.advance(150);
    calls[0]!.resolve([REDIS_NOW]);
    const { error } = (await outcome) as { error: LimiterUnavailableError };
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe("limiter 'api' is unavailable: Redis ran the hit too late to count it (after 75 % of timeoutMs)");
  });

  it('reports limiter.unavailable as insured when an insurance answers', async () => {
    const { redis } = fakeRedis();
    const clock = createTestClock();
    const insurance = insuranceOn(clock, 3);
    const { limiter, named } = limiterOn(redis, { clock, insurance });
    const outcome = limiter.hit('a');
    clock.advance(200);
    expect(await outcome).toEqual({ allowed: true, count: 1, remaining: 2 });
    expect(named('limiter.unavailable').map((event) => event.metadata)).toEqual([
      { limiter: 'api', reason: 'timeout', insured: true, error: expect.any(LimiterUnavailableError) },
    ]);
  });

  it('rejects with the error an insurance threw', async () => {
    const { redis } = fakeRedis();
    const thrown = new Error('insurance broke');
    const insurance = {
      hitSync: () => {
        throw thrown;
      },
      reset: () => Promise.resolve(),
    } as unknown as MemoryRateLimiter;
    const { limiter, clock } = limiterOn(redis, { insurance });
    const outcome = outcomeOf(limiter.hit('a'));
    clock.advance(200);
    expect(await outcome).toEqual({ error: thrown });
  });

  it('names eval in the error when the client answers EVAL with no promise', async () => {
    const evalReturnsNothing: RedisLike = {
      evalsha: () => Promise.reject(NOSCRIPT()),
      eval: () => undefined as unknown as Promise<unknown>,
      del: () => Promise.resolve(1),
    };
    const { limiter } = limiterOn(evalReturnsNothing);
    const { error } = (await outcomeOf(limiter.hit('a'))) as { error: LimiterUnavailableError };
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(error.message).toBe("limiter 'api' is unavailable: Redis failed: redis.eval returned undefined instead of a promise (see RedisLike)");
  });
});

describe('the Redis limiter resetting a key', () => {
  it('resets the insurance too', async () => {
    const { redis, calls } = fakeRedis();
    const clock = createTestClock();
    const insurance = insuranceOn(clock, 1);
    const { limiter } = limiterOn(redis, { clock, insurance });
    expect(insurance.hitSync('a')).toMatchObject({ allowed: true });
    const reset = limiter.reset('a');
    calls[0]!.resolve(1);
    await reset;
    expect(insurance.hitSync('a')).toEqual({ allowed: true, count: 1, remaining: 0 });
  });

  it('rejects after timeoutMs with reason timeout and the time it waited', async () => {
    const { redis } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    const outcome = outcomeOf(limiter.reset('a'));
    clock.advance(200);
    const { error } = (await outcome) as { error: LimiterUnavailableError };
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe("limiter 'api' is unavailable: Redis did not answer a reset within 200 ms");
  });

  it('rejects at once when DEL fails, with the failure as the cause', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    const reset = limiter.reset('a');
    const cause = new Error('ECONNRESET');
    calls[0]!.reject(cause);
    const { error } = (await settledByNow(reset)) as { error: LimiterUnavailableError };
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(error.reason).toBe('error');
    expect(error.message).toBe("limiter 'api' is unavailable: Redis failed a reset: ECONNRESET");
    expect(error.cause).toBe(cause);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('says "error" when DEL rejects or throws with nothing', async () => {
    const rejecting: RedisLike = {
      evalsha: () => Promise.resolve(1),
      eval: () => Promise.resolve(1),
      del: () => Promise.reject(undefined),
    };
    const throwing: RedisLike = {
      ...rejecting,
      del: () => {
        throw undefined;
      },
    };
    for (const redis of [rejecting, throwing]) {
      const { limiter } = limiterOn(redis);
      const { error } = (await settledByNow(limiter.reset('a'))) as { error: LimiterUnavailableError };
      expect(error).toBeInstanceOf(LimiterUnavailableError);
      expect(error.message).toBe("limiter 'api' is unavailable: Redis failed a reset: error");
      expect(error.cause).toBe('error');
    }
  });
});

describe('the Redis limiter failing with a value that cannot be made a string', () => {
  // String(Object.create(null)) throws: the limiter must still settle at once, never hang or leak a rejection.
  const unprintable = (): unknown => Object.create(null) as unknown;
  /** A client whose every command rejects with `value`. */
  const rejectingWith = (value: unknown): RedisLike => ({
    evalsha: () => Promise.reject(value),
    eval: () => Promise.reject(value),
    del: () => Promise.reject(value),
  });

  it('rejects a hit at once, describing the value', async () => {
    const value = unprintable();
    const { limiter, clock } = limiterOn(rejectingWith(value));
    const { error } = (await settledByNow(limiter.hit('a'))) as { error: LimiterUnavailableError };
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(error.reason).toBe('error');
    expect(error.message).toBe("limiter 'api' is unavailable: Redis failed: {}");
    expect(error.cause).toBe(value);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a reset at once, describing the value', async () => {
    const value = unprintable();
    const { limiter, clock } = limiterOn(rejectingWith(value));
    const { error } = (await settledByNow(limiter.reset('a'))) as { error: LimiterUnavailableError };
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(error.message).toBe("limiter 'api' is unavailable: Redis failed a reset: {}");
    expect(error.cause).toBe(value);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the Redis limiter reconfigured with the same limit', () => {
  it('keeps handing out the same shared admitted decisions', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    await prime(limiter, calls);
    const before = limiter.hit('a');
    calls[0]!.resolve(1);
    const first = await before;
    limiter.reconfigure({ windowMs: 2000 });
    const after = limiter.hit('b');
    calls[1]!.resolve(1);
    expect(await after).toBe(first);
  });
});

describe('the scripts of the Redis limiter', () => {
  const config: ScriptConfig = { limit: 7, windowMs: 1234, grace: 1, keepMs: 1001, redisClock: true };

  it('are made once per source: limiters with the same numbers share one', () => {
    expect(limiterScript('token_bucket', { ...config })).toBe(limiterScript('token_bucket', { ...config }));
  });

  it('are sent by the hex SHA-1 of the source EVAL loads', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    void limiter.hit('a').catch(() => undefined);
    calls[0]!.reject(NOSCRIPT());
    await flush();
    const [sha1] = calls[0]!.args;
    const [source] = calls[1]!.args;
    expect(calls.map((call) => call.command)).toEqual(['evalsha', 'eval']);
    expect(sha1).toBe(createHash('sha1').update(source as string).digest('hex'));
    expect(sha1).toMatch(/^[0-9a-f]{40}$/);
    calls[1]!.resolve([1, REDIS_NOW]);
  });
});
