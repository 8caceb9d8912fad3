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

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
    expect(isLimiterUnavailableError({ code: 'ERR_LIMITER_UNAVAILABLE' })).toBe(true);
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
    const pending = settled(limiter.hit('a'));
    clock.advance(200);
    calls[0]!.resolve(1);
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
    const pending = limiter.hit('a');
    expect(clock.pendingTimers()).toBe(1);
    calls[0]!.resolve(1);
    expect(await pending).toEqual({ allowed: true, count: 1, remaining: 4 });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the Redis limiter timing out many hits', () => {
  it('runs every timeout on one timer, each hit expiring timeoutMs after it started', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
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
    calls[1]!.resolve(1);
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
    for (const reply of ['OK', null, 0, 6, 1.5, [2], ['inf', 0], ['x', 0], [1, 1, 4]]) {
      const { redis, calls } = fakeRedis();
      const { limiter } = limiterOn(redis);
      const pending = settled(limiter.hit('a'));
      calls[0]!.resolve(reply);
      expect(await pending, JSON.stringify(reply)).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE' });
    }
  });

  it('loads its script with EVAL once the server says NOSCRIPT, then answers', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    const pending = limiter.hit('a');
    calls[0]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    expect(calls.map((call) => call.command)).toEqual(['evalsha', 'eval']);
    expect(calls[1]!.args[0]).toContain('local limit = 5');
    calls[1]!.resolve(['250.5', 5]);
    expect(await pending).toEqual({ allowed: false, retryAfterMs: 250.5, reason: 'limit_exceeded' });
  });

  it('bounds reset by timeoutMs too', async () => {
    const { redis } = fakeRedis();
    const { limiter, clock } = limiterOn(redis);
    const pending = settled(limiter.reset('a'));
    clock.advance(200);
    expect(await pending).toMatchObject({ code: 'ERR_LIMITER_UNAVAILABLE' });
  });

  it("sends one script call per hit: the key, the cost and the caller clock's now; the numbers are in the script", async () => {
    const { redis, calls } = fakeRedis();
    const { limiter, clock } = limiterOn(redis, { prefix: 'svc' });
    clock.advance(12.5);
    void limiter.hit('user', 3).catch(() => undefined);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.command).toBe('evalsha');
    expect(calls[0]!.args.slice(1)).toEqual(['1', 'svc:3:api:k:user', '3', '12.5']);
    calls[0]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    const source = calls[1]!.args[0]!;
    expect(source).toContain('local limit = 5\nlocal window_ms = 1000\nlocal grace = 1000\n');
    expect(source).not.toContain("redis.call('TIME')");
    calls[1]!.resolve(1);
  });

  it('reads Redis time, not its own, when given no clock', async () => {
    const { redis, calls } = fakeRedis();
    const limiter = createRedisRateLimiter({ name: 'api', limit: 5, windowMs: 1000 / 3, redis });
    void limiter.hit('user').catch(() => undefined);
    expect(calls[0]!.args.slice(1)).toEqual(['1', 'overseer:3:api:k:user', '1']);
    calls[0]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    const source = calls[1]!.args[0]!;
    expect(source).toContain("redis.call('TIME')");
    expect(source).toContain(`local window_ms = ${1000 / 3}\nlocal grace = 1\n`);
    calls[1]!.resolve(1);
  });
});

describe('the Redis limiter reconfigured', () => {
  it('sends the new limit and window from the next hit on', async () => {
    const { redis, calls } = fakeRedis();
    const { limiter } = limiterOn(redis);
    void limiter.hit('user').catch(() => undefined);
    limiter.reconfigure({ limit: 9, windowMs: 2500 });
    void limiter.hit('user').catch(() => undefined);
    expect(calls[1]!.args[0]).not.toBe(calls[0]!.args[0]);
    calls[1]!.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await flush();
    expect(calls[2]!.args[0]).toContain('local limit = 9\nlocal window_ms = 2500\nlocal grace = 2500\n');
    calls[0]!.resolve(1);
    calls[2]!.resolve(1);
    expect(() => limiter.reconfigure({ prefix: 'x' } as never)).toThrow(/cannot change live/);
  });
});
