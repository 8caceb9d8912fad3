import { describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  createRedisRateLimiter,
  createTelemetry,
  createTestClock,
  isLimiterUnavailableError,
  LimiterUnavailableError,
  type RedisLike,
  type TelemetryEvent,
} from '../../../src/index.js';
import { settled } from '../../support/limiter.js';

/** A fake client whose every call waits for the spec to answer it. */
function fakeRedis() {
  const calls: Array<{ command: string; args: string[]; resolve(value: unknown): void; reject(error: unknown): void }> = [];
  const record =
    (command: string) =>
    (...args: unknown[]): Promise<unknown> =>
      new Promise((resolve, reject) => calls.push({ command, args: args.map(String), resolve, reject }));
  const redis: RedisLike = { evalsha: record('evalsha'), eval: record('eval'), del: record('del') };
  return { redis, calls };
}

/** Redis's clock in these specs: every script reply ends with it. */
const REDIS_NOW = 1_700_000_000_000;

/** Replies as the scripts give them (scripts.ts): each ends with Redis's time in whole ms. */
const reply = {
  admitted: (count: number, time = REDIS_NOW) => [count, time],
  denied: (retryAfterMs: string, used: number, time = REDIS_NOW) => [retryAfterMs, used, time],
  late: (time = REDIS_NOW) => [time],
};

/** A script call's arguments after the script: numKeys, key, record, cost, deadline, whether to tell the time (, now). */
const argsOf = (call: { args: string[] }) => {
  const [, numKeys, key, record, cost, deadline, tell, now] = call.args;
  return { numKeys, key, record, cost, deadline: Number(deadline), tell, now };
};

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Lets a fresh limiter learn Redis's time, as its first hit does: that hit goes with deadline 0,
 * Redis refuses it as late and says its time, and the hit goes again. Then forgets those calls.
 */
async function prime(limiter: { hit(key: string): Promise<unknown> }, calls: ReturnType<typeof fakeRedis>['calls'], time = REDIS_NOW): Promise<void> {
  const first = limiter.hit('prime');
  calls[calls.length - 1]!.resolve(reply.late(time));
  await flush();
  calls[calls.length - 1]!.resolve(reply.admitted(1, time));
  await first;
  calls.length = 0;
}

function limiterOn(redis: RedisLike, extra: Record<string, unknown> = {}) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const limiter = createRedisRateLimiter({ name: 'api', limit: 5, windowMs: 1000, redis, clock, telemetry, timeoutMs: 200, ...extra });
  return { limiter, clock, events };
}

describe('the Redis limiter when Redis does not answer', () => {
  it('settles after exactly timeoutMs with a typed LimiterUnavailableError', async () => {
    const { redis } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    const outcome = settled(limiter.hit('a'));
    clock.advance(199);
    await flush();
    let done = false;
    void outcome.then(() => (done = true));
    await flush();
    expect(done).toBe(false);
    clock.advance(1);
    expect(await outcome).toEqual({ error: 'LimiterUnavailableError', code: 'ERR_LIMITER_UNAVAILABLE' });
  });

  it('carries the limiter, the reason, and a stable code its guard checks', async () => {
    const { redis } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    const pending = limiter.hit('a');
    clock.advance(200);
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LimiterUnavailableError);
    expect(isLimiterUnavailableError(error)).toBe(true);
    // The guard checks the package's brand: a bare object with the code is not the error.
    expect(isLimiterUnavailableError({ code: 'ERR_LIMITER_UNAVAILABLE' })).toBe(false);
    expect(error).toMatchObject({ limiter: 'api', reason: 'timeout', message: "limiter 'api' is unavailable: Redis did not answer within 200 ms" });
  });

  it('answers from the insurance limiter instead, when one is configured', async () => {
    const { redis } = fakeRedis();
    const clock = createTestClock();
    const insurance = createRateLimiter({ name: 'api-insurance', limit: 1, windowMs: 1000, clock });
    const limiter = createRedisRateLimiter({ name: 'api', limit: 5, windowMs: 1000, redis, clock, timeoutMs: 200, insurance });
    const first = limiter.hit('a');
    const second = limiter.hit('a');
    clock.advance(200);
    expect(await first).toEqual({ allowed: true, count: 1, remaining: 0 });
    expect(await second).toMatchObject({ allowed: false, reason: 'limit_exceeded' });
  });

  it('ignores a reply that arrives after the timeout', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    await prime(limiter, calls);
    const pending = settled(limiter.hit('a'));
    clock.advance(200);
    calls[0]!.resolve(reply.admitted(1));
    expect(await pending).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE' });
  });

  it('reports limiter.unavailable with the reason and whether insurance answered', async () => {
    const { redis } = fakeRedis();
    const { limiter, clock, events } = limiterOn(redis);
    const pending = settled(limiter.hit('a'));
    clock.advance(200);
    await pending;
    const unavailable = events.filter((event) => event.name === 'limiter.unavailable');
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]!.metadata).toMatchObject({ limiter: 'api', reason: 'timeout', insured: false });
  });

  it('clears its timer once Redis answers', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    await prime(limiter, calls);
    const pending = limiter.hit('a');
    expect(clock.pendingTimers()).toBe(1);
    calls[0]!.resolve(reply.admitted(1));
    expect(await pending).toEqual({ allowed: true, count: 1, remaining: 4 });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the Redis limiter timing out many hits', () => {
  it('runs every timeout on one timer, each hit expiring timeoutMs after it started', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    await prime(limiter, calls);
    const outcomes: string[] = [];
    const track = (name: string, promise: Promise<unknown>) =>
      promise.then(
        () => outcomes.push(`${name} ok @${clock.now()}`),
        () => outcomes.push(`${name} timeout @${clock.now()}`),
      );
    const first = track('first', limiter.hit('a'));
    clock.advance(50);
    const second = track('second', limiter.hit('b'));
    clock.advance(50);
    const third = track('third', limiter.hit('c'));
    expect(clock.pendingTimers()).toBe(1);
    calls[1]!.resolve(reply.admitted(1));
    await second;
    clock.advance(100);
    await first;
    clock.advance(99);
    await flush();
    expect(outcomes).toEqual(['second ok @100', 'first timeout @200']);
    clock.advance(1);
    await third;
    expect(outcomes).toEqual(['second ok @100', 'first timeout @200', 'third timeout @300']);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the Redis limiter when Redis fails', () => {
  it('turns an error reply into LimiterUnavailableError with the cause', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    const pending = limiter.hit('a');
    const cause = new Error('READONLY You can not write against a read only replica');
    calls[0]!.reject(cause);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE', reason: 'error', cause });
  });

  it('never throws synchronously, even from a client that does', async () => {
    const throwing: RedisLike = {
      evalsha: () => {
        throw new Error('Connection is closed.');
      },
      eval: () => {
        throw new Error('Connection is closed.');
      },
      del: () => {
        throw new Error('Connection is closed.');
      },
    };
    const { limiter } = limiterOn(throwing);
    let hit: Promise<unknown> | undefined;
    let reset: Promise<unknown> | undefined;
    expect(() => (hit = limiter.hit('a'))).not.toThrow();
    expect(() => (reset = limiter.reset('a'))).not.toThrow();
    await expect(hit).rejects.toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE', reason: 'error' });
    await expect(reset).rejects.toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE' });
  });

  it('treats a reply of the wrong shape as a failure', async () => {
    const T = REDIS_NOW;
    const shapes = ['OK', null, 0, 6, 1.5, [], [0, T], [6, T], [1.5, T], ['1', T], [1, 'x'], [1, -1], [1, 1.5], ['inf', 0, T], ['x', 0, T], [250, 0, T], ['1', 'x', T], [1, 1, 1, T]];
    for (const shape of shapes) {
      const { redis, calls } = fakeRedis();
      const { limiter } = limiterOn(redis);
      await prime(limiter, calls);
      const pending = settled(limiter.hit('a'));
      calls[0]!.resolve(shape);
      expect(await pending, JSON.stringify(shape)).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE' });
    }
  });

  it('loads its script with EVAL once the server says NOSCRIPT, then answers', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    await prime(limiter, calls);
    const pending = limiter.hit('a');
    calls[0]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    expect(calls.map((call) => call.command)).toEqual(['evalsha', 'eval']);
    expect(calls[1]!.args[0]).toContain('local limit = 5');
    calls[1]!.resolve(reply.denied('250.5', 5));
    expect(await pending).toEqual({ allowed: false, retryAfterMs: 250.5, reason: 'limit_exceeded' });
  });

  it('bounds reset by timeoutMs too', async () => {
    const { redis } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    const pending = settled(limiter.reset('a'));
    clock.advance(200);
    expect(await pending).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE' });
  });

  it("sends one script call per hit: the key, its record, the cost, its deadline and the caller clock's now; the numbers are in the script", async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { prefix: 'svc' });
    await prime(limiter, calls);
    clock.advance(12.5);
    void limiter.hit('user', 3).catch(() => undefined);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.command).toBe('evalsha');
    const { numKeys, key, record, cost, now } = argsOf(calls[0]!);
    expect([numKeys, key, cost, now]).toEqual(['2', 'svc:3:api:k:user', '3', '12.5']);
    expect(record).toMatch(/^svc:3:api:r:[A-Za-z0-9_-]+\{svc:3:api:k:user\}$/);
    calls[0]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    const source = calls[1]!.args[0]!;
    expect(source).toContain('local limit = 5\nlocal window_ms = 1000\nlocal grace = 1000\nlocal keep = 201\nlocal now = tonumber(ARGV[4])\n');
    calls[1]!.resolve(reply.admitted(3));
  });

  it('decides on Redis time, not its own, when given no clock', async () => {
    const { redis, calls } = fakeRedis();
    const limiter = createRedisRateLimiter({ name: 'api', limit: 5, windowMs: 1000 / 3, redis });
    void limiter.hit('user').catch(() => undefined);
    const { numKeys, key, cost, now } = argsOf(calls[0]!);
    expect([numKeys, key, cost, now]).toEqual(['2', 'overseer:3:api:k:user', '1', undefined]);
    calls[0]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    const source = calls[1]!.args[0]!;
    expect(source).toContain("redis.call('TIME')");
    expect(source).toContain(`local window_ms = ${1000 / 3}\nlocal grace = 1\nlocal keep = 1001\nlocal now = redis_now\n`);
    calls[1]!.resolve(reply.admitted(1));
  });
});

describe('the Redis limiter reconfigured', () => {
  it('sends the new limit and window from the next hit on', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    await prime(limiter, calls);
    void limiter.hit('user').catch(() => undefined);
    limiter.reconfigure({ limit: 9, windowMs: 2500 });
    void limiter.hit('user').catch(() => undefined);
    expect(calls[1]!.args[0]).not.toBe(calls[0]!.args[0]);
    calls[1]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    expect(calls[2]!.args[0]).toContain('local limit = 9\nlocal window_ms = 2500\nlocal grace = 2500\n');
    calls[0]!.resolve(reply.admitted(1));
    calls[2]!.resolve(reply.admitted(1));
    expect(() => limiter.reconfigure({ prefix: 'x' } as never)).toThrow(/cannot change live/);
  });
});

describe('the Redis limiter with a client whose methods return no promise', () => {
  const returning = (value: unknown): RedisLike => ({
    evalsha: () => value as Promise<unknown>,
    eval: () => value as Promise<unknown>,
    del: () => value as Promise<unknown>,
  });

  it.each([undefined, 1, 'OK', { then: 'not a function' }])(
    'a hit whose client returned %s settles once, with a typed error, and its timeout never fires after',
    async (value) => {
      const { limiter, clock, events } = limiterOn(returning(value));
      const outcome = await limiter.hit('a').catch((error: unknown) => error);
      expect(outcome).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE', reason: 'error', limiter: 'api' });
      expect((outcome as Error).message).toContain('redis.evalsha returned');
      expect(clock.pendingTimers()).toBe(0);
      clock.advance(1000);
      await flush();
      expect(events.filter((event) => event.name === 'limiter.unavailable')).toHaveLength(1);
    },
  );

  it('with insurance, the insurance decides that hit once: no phantom hit when the timeout would have passed', async () => {
    const clock = createTestClock();
    const insurance = createRateLimiter({ name: 'api-insurance', limit: 2, windowMs: 10_000, clock });
    const limiter = createRedisRateLimiter({ name: 'api', limit: 5, windowMs: 1000, redis: returning(1), clock, timeoutMs: 200, insurance });
    expect(await limiter.hit('a')).toEqual({ allowed: true, count: 1, remaining: 1 });
    clock.advance(1000);
    await flush();
    expect(insurance.hitSync('a')).toEqual({ allowed: true, count: 2, remaining: 0 });
    insurance.stop();
  });

  it('a hit whose client returned a thenable that throws settles once, typed, with its timer cleared', async () => {
    const throwing = {
      then() {
        throw new Error('broken thenable');
      },
    };
    const { limiter, clock, events } = limiterOn(returning(throwing));
    await expect(limiter.hit('a')).rejects.toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE', reason: 'error', message: expect.stringContaining('broken thenable') });
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(1000);
    await flush();
    expect(events.filter((event) => event.name === 'limiter.unavailable')).toHaveLength(1);
  });

  it('a reset whose client returned no promise rejects with a typed error naming the method', async () => {
    const { limiter, clock } = limiterOn(returning(undefined));
    const error = await limiter.reset('a').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE', reason: 'error' });
    expect((error as Error).message).toContain('redis.del returned');
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the Redis limiter giving each hit a deadline in Redis time', () => {
  it("a fresh limiter's first hit learns Redis's time: sent with deadline 0, refused as late, then sent with a deadline 3/4 of timeoutMs on", async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { timeoutMs: 200 });
    clock.advance(40);
    const pending = limiter.hit('a');
    expect(argsOf(calls[0]!).deadline).toBe(0);
    clock.advance(10);
    calls[0]!.resolve(reply.late(REDIS_NOW));
    await flush();
    expect(calls).toHaveLength(2);
    // Started at 40, learnt Redis's time at 50: Redis's clock reads REDIS_NOW − 10 at the start, at least.
    expect(argsOf(calls[1]!).deadline).toBe(REDIS_NOW - 10 + 150);
    expect(argsOf(calls[1]!).record).toBe(argsOf(calls[0]!).record);
    calls[1]!.resolve(reply.admitted(1));
    expect(await pending).toEqual({ allowed: true, count: 1, remaining: 4 });
  });

  it('later hits take their deadline from the Redis time of the last reply and when it arrived', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { timeoutMs: 1000 });
    await prime(limiter, calls, REDIS_NOW);
    clock.advance(300);
    void limiter.hit('a').catch(() => undefined);
    expect(argsOf(calls[0]!).deadline).toBe(REDIS_NOW + 300 + 750);
    clock.advance(100);
    calls[0]!.resolve(reply.admitted(1, REDIS_NOW + 5000));
    await flush();
    void limiter.hit('b').catch(() => undefined);
    expect(argsOf(calls[1]!).deadline).toBe(REDIS_NOW + 5000 + 750);
    // Each hit has its own record; a record never changes between sends of one hit.
    expect(argsOf(calls[1]!).record).not.toBe(argsOf(calls[0]!).record);
    calls[1]!.resolve(reply.admitted(1));
  });

  it('a reply for a hit settled already still tells Redis time', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { timeoutMs: 200 });
    await prime(limiter, calls, REDIS_NOW);
    const timedOut = settled(limiter.hit('a'));
    clock.advance(200);
    expect(await timedOut).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE' });
    calls[0]!.resolve(reply.late(REDIS_NOW + 9000));
    await flush();
    void limiter.hit('b').catch(() => undefined);
    expect(argsOf(calls[1]!).deadline).toBe(REDIS_NOW + 9000 + 150);
    expect(calls).toHaveLength(2);
  });

  it('a hit Redis refused as late once its share of timeoutMs was spent settles at once from the insurance, never sent again', async () => {
    const { redis, calls } = fakeRedis();
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => events.push(event));
    const insurance = createRateLimiter({ name: 'api-insurance', limit: 3, windowMs: 10_000, clock });
    const limiter = createRedisRateLimiter({ name: 'api', limit: 5, windowMs: 1000, redis, clock, telemetry, timeoutMs: 200, insurance });
    await prime(limiter, calls);
    const pending = limiter.hit('a');
    clock.advance(150);
    calls[0]!.resolve(reply.late());
    expect(await pending).toEqual({ allowed: true, count: 1, remaining: 2 });
    expect(calls).toHaveLength(1);
    expect(events.filter((event) => event.name === 'limiter.unavailable').map((event) => event.metadata.reason)).toEqual(['timeout']);
    insurance.stop();
    // The hit's timeout is gone too: nothing fires later.
    expect(clock.pendingTimers()).toBe(0);
  });

  it('without insurance, such a hit rejects at once with reason timeout', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { timeoutMs: 200 });
    await prime(limiter, calls);
    const pending = limiter.hit('a').catch((error: unknown) => error);
    clock.advance(160);
    calls[0]!.resolve(reply.late());
    const error = await pending;
    expect(error).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE', reason: 'timeout' });
    expect((error as Error).message).toContain('too late to count it');
  });

  it('a hit refused as late while it still has time (a stale estimate) is sent again with a fresh deadline, at most twice', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis, { timeoutMs: 200 });
    await prime(limiter, calls, REDIS_NOW);
    const pending = limiter.hit('a').catch((error: unknown) => error);
    for (const [index, time] of [REDIS_NOW + 1000, REDIS_NOW + 2000, REDIS_NOW + 3000].entries()) {
      calls[index]!.resolve(reply.late(time));
      await flush();
    }
    expect(calls.map((call) => argsOf(call).deadline)).toEqual([REDIS_NOW + 150, REDIS_NOW + 1000 + 150, REDIS_NOW + 2000 + 150]);
    expect(await pending).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE', reason: 'timeout' });
  });

  it("asks for Redis's time with an admitted answer only once what it knows is over a second old, and takes a bare count", async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { timeoutMs: 200 });
    await prime(limiter, calls, REDIS_NOW);
    const fresh = limiter.hit('a');
    expect(argsOf(calls[0]!).tell).toBe('');
    calls[0]!.resolve(2);
    expect(await fresh).toEqual({ allowed: true, count: 2, remaining: 3 });
    clock.advance(1000);
    void limiter.hit('a').catch(() => undefined);
    expect(argsOf(calls[1]!).tell).toBe('');
    clock.advance(1);
    void limiter.hit('a').catch(() => undefined);
    expect(argsOf(calls[2]!).tell).toBe('t');
    calls[2]!.resolve(reply.admitted(3, REDIS_NOW + 60_000));
    await flush();
    void limiter.hit('a').catch(() => undefined);
    expect(argsOf(calls[3]!)).toMatchObject({ tell: '', deadline: REDIS_NOW + 60_000 + 150 });
    calls[1]!.resolve(3);
    calls[3]!.resolve(4);
  });

  it('a hit NOSCRIPT sent again as EVAL keeps its record and takes a fresh deadline', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { timeoutMs: 200 });
    await prime(limiter, calls, REDIS_NOW);
    const pending = limiter.hit('a');
    clock.advance(20);
    calls[0]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    expect(argsOf(calls[1]!).record).toBe(argsOf(calls[0]!).record);
    expect(argsOf(calls[1]!).deadline).toBe(REDIS_NOW + 150);
    calls[1]!.resolve(reply.admitted(2));
    expect(await pending).toEqual({ allowed: true, count: 2, remaining: 3 });
  });
});
