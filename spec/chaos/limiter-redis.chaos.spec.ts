import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  createRedisRateLimiter,
  createTelemetry,
  isLimiterUnavailableError,
  type Decision,
  type RateLimiter,
  type RedisLike,
  type TelemetryEvent,
} from '../../src/index.js';
import { redisServerAvailable, startOwnRedis, startRedisProxy, type OwnRedis, type RedisProxy } from '../support/limiter-redis.js';

const TIMEOUT_MS = 200;
/** How late past timeoutMs a hit may settle on a busy machine (timers, event loop). */
const SLACK_MS = 300;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Per phase: hits, errors, slowest settlement (for LIMITER_CHAOS_VERBOSE=1). */
function summary(plain: Outcome[], insured: Outcome[]): string {
  return ['up', 'down', 'back']
    .map((phase) => {
      const mine = plain.filter((outcome) => outcome.phase === phase);
      const slowest = Math.max(...mine.map((outcome) => outcome.ms), ...insured.filter((outcome) => outcome.phase === phase).map((outcome) => outcome.ms));
      return `${phase}: ${mine.length} hits, ${mine.filter((outcome) => outcome.error !== undefined).length} errors, slowest ${slowest.toFixed(0)} ms`;
    })
    .join('; ');
}

interface Outcome {
  phase: string;
  ms: number;
  decision?: Decision;
  error?: unknown;
}

/**
 * Starts its own redis-server (/usr/bin/redis-server, or REDIS_SERVER) on a spare loopback port
 * with nothing kept on disk, drives a Redis limiter against it with real time, SIGKILLs the
 * server mid-run and starts it again: every hit settles within timeoutMs (plus scheduling slack)
 * with a decision, a typed LimiterUnavailableError, or the insurance limiter's decision; and hits
 * are decided by Redis again once it is back (after its scripts were lost with it).
 */
describe.runIf(redisServerAvailable)('a Redis limiter while its Redis dies and comes back', () => {
  let server: OwnRedis;
  let client: Redis;
  beforeAll(async () => {
    server = await startOwnRedis();
    client = new Redis(server.port, '127.0.0.1');
    client.on('error', () => undefined);
    await client.ping();
  }, 20_000);
  afterAll(async () => {
    client.disconnect();
    await server.kill();
  });

  /** Fires a hit every 5 ms for `durationMs` and records how each one settled and how long it took. */
  async function drive(limiter: RateLimiter, phase: string, durationMs: number, into: Array<Promise<Outcome>>): Promise<void> {
    const until = performance.now() + durationMs;
    let index = 0;
    while (performance.now() < until) {
      const started = performance.now();
      into.push(
        limiter.hit(`client-${index % 50}`).then(
          (decision) => ({ phase, ms: performance.now() - started, decision }),
          (error: unknown) => ({ phase, ms: performance.now() - started, error }),
        ),
      );
      index += 1;
      await sleep(5);
    }
  }

  /** Hits until Redis decides one (not the insurance), within `withinMs`. */
  async function untilRedisDecides(limiter: RateLimiter, withinMs: number): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < withinMs) {
      const outcome = await limiter.hit('probe').then(
        (decision) => decision,
        () => undefined,
      );
      if (outcome !== undefined && (await client.exists(`chaos:5:plain:k:probe`).catch(() => 0)) === 1) return performance.now() - started;
      await sleep(20);
    }
    throw new Error(`Redis did not decide a hit within ${withinMs} ms of coming back`);
  }

  it('every hit settles in bounded time, typed, and Redis decides again after it returns', async () => {
    const plain = createRedisRateLimiter({ name: 'plain', limit: 1000, windowMs: 60_000, redis: client, prefix: 'chaos', timeoutMs: TIMEOUT_MS });
    const insurance = createRateLimiter({ name: 'insurance', limit: 1000, windowMs: 60_000 });
    const insured = createRedisRateLimiter({ name: 'insured', limit: 1000, windowMs: 60_000, redis: client, prefix: 'chaos', timeoutMs: TIMEOUT_MS, insurance });
    const outcomes: Array<Promise<Outcome>> = [];
    const insuredOutcomes: Array<Promise<Outcome>> = [];

    await Promise.all([drive(plain, 'up', 300, outcomes), drive(insured, 'up', 300, insuredOutcomes)]);
    await server.kill();
    await Promise.all([drive(plain, 'down', 1000, outcomes), drive(insured, 'down', 1000, insuredOutcomes)]);
    await server.restart();
    const recoveredInMs = await untilRedisDecides(plain, 10_000);
    await Promise.all([drive(plain, 'back', 300, outcomes), drive(insured, 'back', 300, insuredOutcomes)]);

    const settled = await Promise.all(outcomes);
    const insuredSettled = await Promise.all(insuredOutcomes);
    const byPhase = (all: Outcome[], phase: string) => all.filter((outcome) => outcome.phase === phase);

    if (process.env.LIMITER_CHAOS_VERBOSE) console.log(summary(settled, insuredSettled), `recovered in ${recoveredInMs.toFixed(0)} ms`);
    // Every hit settled, within the bound.
    for (const outcome of [...settled, ...insuredSettled]) expect(outcome.ms, outcome.phase).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    // Up: Redis decided everything.
    expect(byPhase(settled, 'up').every((outcome) => outcome.decision?.allowed === true)).toBe(true);
    // Down: only typed errors (or decisions of hits Redis answered before it died), never another error.
    const down = byPhase(settled, 'down');
    expect(down.filter((outcome) => outcome.error !== undefined).length).toBeGreaterThan(down.length / 2);
    for (const outcome of down) if (outcome.error !== undefined) expect(isLimiterUnavailableError(outcome.error)).toBe(true);
    // With insurance: a decision every time, never an error.
    expect(insuredSettled.every((outcome) => outcome.decision !== undefined)).toBe(true);
    // Back: Redis decides again, with its scripts loaded anew.
    expect(recoveredInMs).toBeLessThan(10_000);
    expect(byPhase(settled, 'back').every((outcome) => outcome.decision?.allowed === true)).toBe(true);
    expect(await client.exists('chaos:5:plain:k:client-0')).toBe(1);
    insurance.stop();
  }, 30_000);
});

/** Ten years: no fixed window ends during a run. */
const TEN_YEARS_MS = 10 * 365 * 24 * 3_600_000;
/** Never reached: every hit is admitted, so Redis's count of a key is the sum of what it admitted. */
const LOTS = 1_000_000_000;

/** Resolves with `promise`, or rejects after `ms`: a chaos step never hangs the spec. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Starts its own redis-server on a spare loopback port and a TCP proxy of its own in front of it,
 * and connects as the README does (`new Redis(url)`: ioredis's defaults, so an offline queue,
 * resending unanswered commands after a reconnect, 20 retries per request). A fixed-window limiter
 * with the README's `timeoutMs` (250) and an insurance limiter takes a steady stream of hits on 16
 * keys while the spec cuts replies mid-way at the proxy (ioredis resends what Redis already ran),
 * kills the limiter's connection from Redis (CLIENT KILL: the replies Redis had not written are
 * lost, and resent), pauses Redis for longer than a hit may wait (CLIENT PAUSE: the hits run once
 * their insurance has decided them), and plays dead at the proxy for a second (hits wait in
 * ioredis's offline queue, and reach Redis long after their timeout). Afterwards Redis's count of
 * every key equals the units the limiter reported as decided by Redis, to the unit: no hit counted
 * twice, none the insurance decided counted at all.
 */
describe.runIf(redisServerAvailable)("a Redis limiter on the README's client options, through cut replies, kills, a pause and an outage", () => {
  let server: OwnRedis;
  let proxy: RedisProxy;
  let admin: Redis;
  let client: Redis;
  beforeAll(async () => {
    server = await startOwnRedis();
    proxy = await startRedisProxy(server.port);
    admin = new Redis(server.port, '127.0.0.1');
    admin.on('error', () => undefined);
    client = new Redis(`redis://127.0.0.1:${proxy.port}`);
    client.on('error', () => undefined);
    await client.ping();
  }, 20_000);
  afterAll(async () => {
    client.disconnect();
    admin.disconnect();
    await proxy.close();
    await server.kill();
  });

  it('Redis counts exactly the hits it decided: never one twice, never one the insurance decided', async () => {
    const telemetry = createTelemetry();
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => {
      if (event.name === 'limiter.hit') events.push(event);
    });
    const insurance = createRateLimiter({ name: 'acct-insurance', limit: LOTS, windowMs: TEN_YEARS_MS, telemetry });
    const limiter = createRedisRateLimiter({
      name: 'acct',
      limit: LOTS,
      windowMs: TEN_YEARS_MS,
      redis: client,
      prefix: 'chaos',
      timeoutMs: 250,
      insurance,
      telemetry,
      telemetryKeys: true,
    });
    const outcomes: Array<Promise<Outcome>> = [];
    let running = true;
    const driving = (async () => {
      let index = 0;
      while (running) {
        for (let burst = 0; burst < 4; burst += 1, index += 1) {
          const started = performance.now();
          outcomes.push(
            limiter.hit(`k${index % 16}`, 1 + (index % 3)).then(
              (decision) => ({ phase: 'run', ms: performance.now() - started, decision }),
              (error: unknown) => ({ phase: 'run', ms: performance.now() - started, error }),
            ),
          );
        }
        await sleep(2);
      }
    })();

    await sleep(300);
    for (let cut = 0; cut < 5; cut += 1) {
      await within(5000, 'a reply to cut', proxy.cutNextReply());
      await sleep(150);
    }
    for (let kill = 0; kill < 3; kill += 1) {
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await sleep(150);
    }
    await admin.call('CLIENT', 'PAUSE', '600', 'ALL');
    await sleep(900);
    await proxy.down(50);
    await sleep(1000);
    proxy.up();
    await sleep(500);
    running = false;
    await driving;
    const settled = await Promise.all(outcomes);
    // ioredis answers in order: once this PING is answered, every command sent before it has run.
    await expect.poll(() => client.ping().catch(() => 'not yet'), { timeout: 10_000, interval: 50 }).toBe('PONG');

    const decidedByRedis = new Map<string, number>();
    let decidedByInsurance = 0;
    for (const event of events) {
      if (event.metadata.limiter === 'acct-insurance') decidedByInsurance += 1;
      if (event.metadata.limiter !== 'acct' || event.metadata.allowed !== true) continue;
      const key = event.metadata.key as string;
      decidedByRedis.set(key, (decidedByRedis.get(key) ?? 0) + event.measurements.cost!);
    }
    const counted = new Map<string, number>();
    for (let key = 0; key < 16; key += 1) {
      const count = await admin.hget(`chaos:4:acct:k:k${key}`, 'c');
      if (count !== null) counted.set(`k${key}`, Number(count));
    }
    if (process.env.LIMITER_CHAOS_VERBOSE) console.log(`${settled.length} hits, ${decidedByInsurance} decided by the insurance, ${proxy.cuts} replies cut`);
    expect(proxy.cuts).toBe(5);
    expect(decidedByInsurance).toBeGreaterThan(0);
    expect(settled.every((outcome) => outcome.decision !== undefined)).toBe(true);
    for (const outcome of settled) expect(outcome.ms).toBeLessThan(250 + SLACK_MS);
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(decidedByRedis));
    insurance.stop();
  }, 60_000);

  it('a hit held back until the insurance decided it, then delivered, changes nothing in Redis', async () => {
    // A client that keeps the limiter's calls until the spec lets them go, as an offline queue does.
    const held: Array<() => void> = [];
    let holding = false;
    const late: RedisLike = {
      evalsha: (...args) => (holding ? new Promise((resolve, reject) => held.push(() => client.evalsha(...args).then(resolve, reject))) : client.evalsha(...args)),
      eval: (...args) => (holding ? new Promise((resolve, reject) => held.push(() => client.eval(...args).then(resolve, reject))) : client.eval(...args)),
      del: (...keys) => client.del(...keys),
    };
    const insurance = createRateLimiter({ name: 'held-insurance', limit: LOTS, windowMs: TEN_YEARS_MS });
    const limiter = createRedisRateLimiter({ name: 'held', limit: LOTS, windowMs: TEN_YEARS_MS, redis: late, prefix: 'chaos', timeoutMs: 100, insurance });
    expect(await limiter.hit('k')).toMatchObject({ allowed: true, count: 1 });
    holding = true;
    const started = performance.now();
    expect(await limiter.hit('k', 5)).toMatchObject({ allowed: true, count: 5 });
    expect(performance.now() - started).toBeLessThan(100 + SLACK_MS);
    holding = false;
    for (const release of held.splice(0)) release();
    expect(await client.ping()).toBe('PONG');
    expect(await admin.hget('chaos:4:held:k:k', 'c')).toBe('1');
    insurance.stop();
  });
});
