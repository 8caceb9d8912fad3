import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createBreaker, createTelemetry, isBreakerOpenError, type Breaker, type TelemetryEvent } from '../../src/index.js';
import { createBreakerFleet, type BreakerFleet } from '../../src/cluster/index.js';
import {
  REDIS_URL,
  connectRedis,
  deleteKeys,
  keysUnder,
  randomPrefix,
  redisAvailable,
  redisServerAvailable,
  startOwnRedis,
  type OwnRedis,
} from '../support/limiter-redis.js';

/**
 * Breaker fleets against real Redis, on the real clock: three fleets in this one process stand
 * for three instances of a service, each with its own command connection and its own subscriber
 * (`redis.duplicate()`, as the README shows). The first part uses the server at REDIS_URL under a
 * prefix of its own, deleted after; the second starts its own redis-server on a spare loopback port
 * (nothing kept on disk), SIGKILLs it by its pid and starts it again. Every wait is bounded.
 */

const heartbeatMs = 200;
/** FLEET_SCENARIO_VERBOSE=1 prints the measured times. */
const verbose = Boolean(process.env.FLEET_SCENARIO_VERBOSE);
const timeoutMs = 500;
const isolationTtlMs = 3000;

interface Instance {
  readonly fleet: BreakerFleet;
  readonly breaker: Breaker;
  readonly redis: Redis;
  readonly events: TelemetryEvent[];
}

const running: Instance[] = [];
const servers: OwnRedis[] = [];

function instance(name: string, redis: Redis, prefix: string): Instance {
  redis.on('error', () => undefined);
  const telemetry = createTelemetry();
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const fleet = createBreakerFleet({ redis, instance: name, prefix, heartbeatMs, timeoutMs, isolationTtlMs, telemetry });
  const breaker = createBreaker({ name: 'payments', telemetry });
  fleet.attach(breaker);
  const made = { fleet, breaker, redis, events };
  running.push(made);
  return made;
}

/** Whether a call through `breaker` runs now, or is refused (and with what). */
async function attempt(breaker: Breaker): Promise<'ran' | { refused: unknown }> {
  try {
    await breaker.call(() => 'ok');
    return 'ran';
  } catch (error) {
    return { refused: error };
  }
}

/** Milliseconds until `condition` holds, polled every 5 ms, at most `withinMs`. */
async function until(condition: () => boolean | Promise<boolean>, withinMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

/** Until every fleet sees every other in its view: their subscriptions stand. */
async function allSeeEachOther(instances: Instance[]): Promise<void> {
  const names = instances.map((entry) => entry.fleet.instance).sort();
  await until(() => instances.every((entry) => JSON.stringify(Object.keys(entry.fleet.view()).sort()) === JSON.stringify(names)), 5000, 'the fleets seeing each other');
}

afterEach(async () => {
  for (const entry of running.splice(0)) {
    await entry.fleet.stop();
    entry.redis.disconnect();
  }
});

afterAll(async () => {
  for (const server of servers.splice(0)) await server.kill();
});

describe.skipIf(!redisAvailable)(`breaker fleets on the Redis at ${REDIS_URL}`, () => {
  const prefix = randomPrefix('fleet');
  afterAll(async () => {
    const admin = connectRedis();
    await deleteKeys(admin, prefix);
    admin.disconnect();
  });

  it('isolating on one instance makes the other two refuse within 1 s; restoring makes all three admit within 1 s', async () => {
    const instances = ['one', 'two', 'three'].map((name) => instance(name, connectRedis(), prefix));
    await allSeeEachOther(instances);
    const [first, ...others] = instances as [Instance, Instance, Instance];

    const isolating = performance.now();
    const isolation = await first.fleet.isolate('payments', { reason: 'scenario' });
    expect(first.breaker.state()).toBe('disabled');
    await until(async () => (await Promise.all(others.map((entry) => attempt(entry.breaker)))).every((outcome) => outcome !== 'ran'), 1000, 'the others refusing');
    const isolatedIn = performance.now() - isolating;
    for (const entry of others) {
      const outcome = await attempt(entry.breaker);
      expect(outcome).not.toBe('ran');
      const error = (outcome as { refused: unknown }).refused;
      expect(isBreakerOpenError(error)).toBe(true);
      expect(error).toMatchObject({ state: 'disabled', retryAfterMs: Infinity, isolation: { id: isolation.id, by: 'one', reason: 'scenario' } });
    }
    expect(isolatedIn).toBeLessThan(1000);
    // Everyone's view says so.
    await until(() => others.every((entry) => Object.values(entry.fleet.view()).every((breakers) => breakers.payments?.isolated === true)), 1000, 'the views showing it');

    // Any instance restores.
    const restoring = performance.now();
    await expect(others[1].fleet.restore('payments')).resolves.toBe(true);
    await until(async () => (await Promise.all(instances.map((entry) => attempt(entry.breaker)))).every((outcome) => outcome === 'ran'), 1000, 'all admitting');
    const restoredIn = performance.now() - restoring;
    expect(restoredIn).toBeLessThan(1000);
    if (verbose) console.log(`isolated on the others ${isolatedIn.toFixed(1)} ms after isolate() was called, restored on all ${restoredIn.toFixed(1)} ms after restore() was`);
    const admin = connectRedis();
    expect(await keysUnder(admin, prefix)).toEqual([]);
    admin.disconnect();
  });

  it('an instance that starts after the isolation refuses once attached; the isolation expires after its TTL when its instance dies', async () => {
    const issuer = instance('issuer', connectRedis(), prefix);
    const other = instance('other', connectRedis(), prefix);
    await allSeeEachOther([issuer, other]);
    await issuer.fleet.isolate('payments', { ttlMs: 1000 });
    // Refreshed while the issuer lives: still there after twice its TTL.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(other.breaker.state()).toBe('disabled');

    const starting = performance.now();
    const late = instance('late', connectRedis(), prefix);
    await until(() => late.breaker.state() === 'disabled', 1000, 'the late instance refusing');
    const lateIn = performance.now() - starting;
    expect(lateIn).toBeLessThan(1000);
    if (verbose) console.log(`a late instance refused ${lateIn.toFixed(1)} ms after it was created`);

    // The issuer dies: its connections drop, nothing refreshes the isolation any more.
    const diedAt = performance.now();
    issuer.redis.disconnect();
    await until(() => other.breaker.state() === 'closed' && late.breaker.state() === 'closed', 1000 + heartbeatMs + timeoutMs + 500, 'the isolation expiring');
    expect(performance.now() - diedAt).toBeGreaterThan(300);
    expect(other.events.some((event) => event.name === 'breaker.fleet.restored' && event.metadata.why === 'expired')).toBe(true);
  }, 20_000);
});

describe.runIf(redisServerAvailable)('breaker fleets while their own redis-server is killed and started again', () => {
  it('breakers go on locally while Redis is gone, nothing is thrown at callers; after the restart the fleets subscribe again and isolate within 1 s', async () => {
    const server = await startOwnRedis();
    servers.push(server);
    const prefix = randomPrefix('fleetchaos');
    const connect = (): Redis => new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    const instances = ['one', 'two', 'three'].map((name) => instance(name, connect(), prefix));
    await allSeeEachOther(instances);
    await instances[0]!.fleet.isolate('payments');
    await until(() => instances.every((entry) => entry.breaker.state() === 'disabled'), 1000, 'all isolated');

    await server.kill();
    // While Redis is gone: every call settles, by running or by a breaker's own refusal; nothing else.
    const outcomes: Array<'ran' | { refused: unknown }> = [];
    const downUntil = performance.now() + 1500;
    while (performance.now() < downUntil) {
      outcomes.push(...(await Promise.all(instances.map((entry) => attempt(entry.breaker)))));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const outcome of outcomes) if (outcome !== 'ran') expect(isBreakerOpenError(outcome.refused)).toBe(true);
    for (const entry of instances) {
      expect(entry.events.some((event) => event.name === 'breaker.fleet.unavailable')).toBe(true);
      expect(entry.fleet.status().redis).toBe('unavailable');
    }
    // A breaker's own counting still works with Redis gone.
    const local = createBreaker({ name: 'local', tolerance: { failures: 0, windowMs: 1000 } });
    await local.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(local.state()).toBe('open');

    await server.restart();
    // Redis came back empty: the isolation is gone, and each fleet, subscribed again, re-reads and lifts it.
    await until(() => instances.every((entry) => entry.fleet.status().subscribed && entry.breaker.state() === 'closed'), 10_000, 'the fleets back and restored');
    for (const entry of instances) expect(entry.events.some((event) => event.name === 'breaker.fleet.available')).toBe(true);

    const isolating = performance.now();
    await instances[1]!.fleet.isolate('payments', { reason: 'after the restart' });
    await until(() => instances.every((entry) => entry.breaker.state() === 'disabled'), 1000, 'all isolated after the restart');
    const isolatedIn = performance.now() - isolating;
    expect(isolatedIn).toBeLessThan(1000);
    if (verbose) console.log(`${outcomes.length} calls while Redis was gone; isolated on all ${isolatedIn.toFixed(1)} ms after isolate() was called, after the restart`);
    await instances[2]!.fleet.restore('payments');
    await until(() => instances.every((entry) => entry.breaker.state() === 'closed'), 1000, 'all restored after the restart');
  }, 30_000);

  it('a fleet created while Redis is down works locally, rejects isolate() in bounded time, and joins once Redis is up', async () => {
    const server = await startOwnRedis();
    servers.push(server);
    await server.kill();
    const prefix = randomPrefix('fleetlate');
    const early = instance('early', new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 }), prefix);
    expect(await attempt(early.breaker)).toBe('ran');
    const started = performance.now();
    await expect(early.fleet.isolate('payments')).rejects.toMatchObject({ code: 'ERR_BREAKER_FLEET_UNAVAILABLE', operation: 'isolate' });
    expect(performance.now() - started).toBeLessThan(timeoutMs + 300);
    expect(early.breaker.state()).toBe('closed');
    await until(() => early.events.some((event) => event.name === 'breaker.fleet.unavailable'), 2000, 'the loss reported');

    await server.restart();
    const other = instance('other', new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 }), prefix);
    await until(() => early.fleet.status().subscribed && early.fleet.status().redis === 'available', 10_000, 'the early fleet joining');
    await allSeeEachOther([early, other]);
    await other.fleet.isolate('payments');
    await until(() => early.breaker.state() === 'disabled', 1000, 'the early fleet isolating');
  }, 30_000);
});
