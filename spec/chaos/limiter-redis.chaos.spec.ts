import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, createRedisRateLimiter, isLimiterUnavailableError, type Decision, type RateLimiter } from '../../src/index.js';
import { redisServerAvailable, startOwnRedis, type OwnRedis } from '../support/limiter-redis.js';

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
