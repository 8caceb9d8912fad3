import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, protect, stageOf, startInfrastructure, type TelemetryEvent } from '../../src/index.js';
import type { CrashResult, CrashTask } from '../../workers/tasks.js';
import { startOwnRedis, type OwnRedis } from '../support/limiter-redis.js';
import { flush } from '../support/supervision.js';

const crashWorker = new URL('../../workers/crash.mjs', import.meta.url);

function restartsOf(events: TelemetryEvent[]): string[] {
  return events.filter((event) => event.name === 'supervisor.child.restarted').map((event) => `${String(event.metadata.supervisor)}:${String(event.metadata.child)}`);
}

/**
 * The real infrastructure tree under failures: its Redis killed under the Redis limiters (a
 * redis-server of its own on a spare loopback port), worker threads crashing under load, the
 * clock jumping far forward. Every call settles, and nothing outside the failing part restarts.
 */
describe('the infrastructure tree under failures', () => {
  let server: OwnRedis;
  beforeAll(async () => {
    server = await startOwnRedis();
  }, 20_000);
  afterAll(async () => {
    await server.kill();
  });

  it('Redis killed mid-run under the Redis limiters: every call settles (insurance answers), nothing restarts, Redis decides again once back', async () => {
    const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    const telemetry = createTelemetry();
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => events.push(event));
    const infra = await startInfrastructure({
      telemetry,
      redis,
      redisPrefix: `chaos${process.pid}`,
      namespaces: { api: { limiters: { clients: { limit: 1000, windowMs: 1000 } } }, other: { breakers: { b: {} } } },
    });
    const call = protect({ name: 'api', limiter: infra.limiter('api', 'clients'), telemetry }, () => 'served');
    const started = performance.now();
    const run = async (count: number) =>
      Promise.all(Array.from({ length: count }, (_unused, index) => call({ key: `client-${index % 7}` }).then((value) => value, (error: unknown) => stageOf(error))));
    expect(new Set(await run(50))).toEqual(new Set(['served']));
    await server.kill();
    const during = await run(50);
    expect(during.every((outcome) => outcome === 'served')).toBe(true);
    expect(events.some((event) => event.name === 'limiter.unavailable' || event.metadata.backend === 'insurance')).toBe(true);
    await server.restart();
    await expect.poll(() => redis.status, { timeout: 10_000 }).toBe('ready');
    expect(new Set(await run(20))).toEqual(new Set(['served']));
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(restartsOf(events)).toEqual([]);
    await infra.stop();
    redis.disconnect();
  }, 30_000);

  it('a hot reload reaches the insurance limiter too: with Redis killed, the new limit holds', async () => {
    const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    await expect.poll(() => redis.status, { timeout: 10_000 }).toBe('ready');
    const infra = await startInfrastructure({
      telemetry: createTelemetry(),
      redis,
      redisPrefix: `chaos-reload${process.pid}`,
      namespaces: { api: { limiters: { clients: { limit: 1000, windowMs: 60_000 } } } },
    });
    infra.configure({ api: { limiters: { clients: { limit: 3 } } } });
    await server.kill();
    const limiter = infra.limiter('api', 'clients');
    const decisions = [];
    for (let hit = 0; hit < 4; hit += 1) decisions.push((await limiter.hit('one-client')).allowed);
    expect(decisions).toEqual([true, true, true, false]);
    await server.restart();
    await expect.poll(() => redis.status, { timeout: 10_000 }).toBe('ready');
    await infra.stop();
    redis.disconnect();
  }, 30_000);

  it('worker threads crashing under load: every task settles, the crashes restart nothing but threads', async () => {
    const telemetry = createTelemetry();
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => events.push(event));
    const infra = await startInfrastructure({
      telemetry,
      namespaces: {
        compute: { threadPools: { crashy: { filename: crashWorker, minThreads: 1, maxThreads: 2 } } },
        api: { breakers: { upstream: {} } },
      },
    });
    const threads = infra.threadPool<CrashTask, CrashResult>('compute', 'crashy');
    const tasks: CrashTask[] = Array.from({ length: 200 }, (_unused, index) =>
      index % 25 === 0 ? { kind: 'exit', code: 3 } : index % 31 === 0 ? { kind: 'uncaught', message: 'boom' } : { kind: 'value', value: index },
    );
    const outcomes = await Promise.all(
      tasks.map((task) => threads.run(task).then(() => 'ok', (error: { code?: string }) => error.code ?? 'task-error')),
    );
    expect(outcomes).toHaveLength(200);
    expect(outcomes.filter((outcome) => outcome === 'ok').length).toBeGreaterThan(150);
    expect(new Set(outcomes.filter((outcome) => outcome !== 'ok'))).toEqual(new Set(['ERR_WORKER_CRASHED']));
    const exits = events.filter((event) => event.name === 'pool.worker.exit');
    expect(exits.length).toBeGreaterThan(0);
    // Named after its namespace, as every component of the tree is.
    expect(threads.name).toBe('compute.crashy');
    expect(new Set(exits.map((event) => event.metadata.pool))).toEqual(new Set(['compute.crashy']));
    expect(restartsOf(events)).toEqual([]);
    expect(await threads.run({ kind: 'value', value: 7 })).toBe(7);
    await infra.stop();
  }, 60_000);

  it('the clock jumping far forward: calls settle, breakers probe, windows roll over, nothing restarts', async () => {
    const clock = createTestClock(1_000);
    const telemetry = createTelemetry({ clock });
    const events: TelemetryEvent[] = [];
    telemetry.events$.subscribe((event) => events.push(event));
    const infra = await startInfrastructure({
      clock,
      telemetry,
      namespaces: {
        api: {
          breakers: { upstream: { tolerance: { failures: 0, windowMs: 1000 }, resetMs: 5_000 } },
          limiters: { clients: { limit: 2, windowMs: 1_000 } },
          pools: { conns: { size: 1, maxOverflow: 0, checkoutTimeoutMs: 60_000, worker: { create: () => ({}) } } },
        },
      },
    });
    const call = protect(
      { name: 'api', limiter: infra.limiter('api', 'clients'), breaker: infra.breaker('api', 'upstream'), pool: infra.pool('api', 'conns'), telemetry, clock },
      (_worker, _signal, input: { key?: string; fail?: boolean; slowMs?: number }) =>
        input.fail
          ? Promise.reject(new Error('down'))
          : input.slowMs === undefined
            ? 'ok'
            : new Promise((resolve) => clock.setTimeout(() => resolve('ok'), input.slowMs ?? 0)),
    );
    const limiter = infra.limiter('api', 'clients');
    await limiter.hit('x');
    await limiter.hit('x');
    expect((await limiter.hit('x')).allowed).toBe(false);
    const slow = call({ key: 'a', slowMs: 10_000 }).then(() => 'ok', (error: unknown) => stageOf(error));
    const waiting = call({ key: 'b' }).then(() => 'ok', (error: unknown) => stageOf(error));
    await flush();
    clock.advance(1e9);
    await flush();
    // The jump fires every due timer at once: the slow call finishes (its timer is due first), and
    // the waiting checkout's deadline passes before the released worker reaches it: a typed pool
    // timeout, not a hang, and no worker is lost.
    expect(await slow).toBe('ok');
    expect(await waiting).toBe('pool');
    expect(infra.pool('api', 'conns').status()).toMatchObject({ idle: 1, checkedOut: 0, waiting: 0 });
    expect((await limiter.hit('x')).allowed).toBe(true);
    await call({ key: 'c', fail: true }).catch(() => undefined);
    expect(infra.breaker('api', 'upstream').state()).toBe('open');
    clock.advance(1e9);
    expect(infra.breaker('api', 'upstream').state()).toBe('half_open');
    expect(await call({ key: 'c' }).then(() => 'ok')).toBe('ok');
    expect(infra.breaker('api', 'upstream').state()).toBe('closed');
    expect(restartsOf(events)).toEqual([]);
    await infra.stop();
  });
});
