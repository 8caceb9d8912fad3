import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseKeys } from '../../src/cluster/redis-lease.js';
import { DATABASE_URL, postgresAvailable, postgresPool, randomTable, sleep } from '../support/cluster-stores.js';
import { REDIS_URL, deleteKeys, keysUnder, randomPrefix, redisAvailable, redisServerAvailable } from '../support/limiter-redis.js';
import { ServiceHarness, fenceViolations, logViolations, startPersistentRedis, unexplainedWrites, waitFor, windowOverlaps, type PersistentRedis, type Run } from './harness.js';
import { fencedWriteStatements, loggedWrites, type LoggedWrite } from './service/fenced-writes.js';
import type { LeaseBackend } from './service/protocol.js';

/**
 * The multi-process scenario: three Node processes of a small service (`service/instance.ts`,
 * forked with `node --import tsx`), each with a supervision tree whose singleton child writes
 * fenced rows into a PostgreSQL table while it holds the lease, a Redis rate limiter shared
 * by all three, and a breaker attached to a breaker fleet (isolated on one, refused by all); all against the machine's PostgreSQL (DATABASE_URL) and a Redis on loopback. It
 * runs once with the lease in PostgreSQL and once in Redis (a redis-server of this file's own,
 * persisting to an append-only file, so that it can be restarted), and applies one fault per
 * spec, in order, replacing the processes it ends. The last spec checks the whole run.
 *
 * Times are on one machine's wall clock (`Date.now()` in every process) and, for the writes, on
 * the database's `clock_timestamp()`.
 */
const ttlMs = 1000;
const retryMs = ttlMs / 3;
/** What a takeover may take beyond `ttlMs + retryMs`: a claim round trip, IPC, and event loops of several processes sharing 2 cores. */
const SLACK_MS = 250;

/** Takeover times measured in this file, printed at the end (for the report and for reading CI logs). */
const measured: string[] = [];

afterAll(() => {
  if (measured.length > 0) console.log(`multi-process scenario, ttlMs ${ttlMs}, retryMs ${Math.round(retryMs)}:\n  ${measured.join('\n  ')}`);
});

const available = postgresAvailable && redisAvailable && redisServerAvailable;

describe.runIf(available).each(['postgres', 'redis'] as const)('three service processes with the singleton lease in %s', (backend: LeaseBackend) => {
  const tables = { log: randomTable('writes'), mark: randomTable('mark'), lease: randomTable('leases') };
  const leasePrefix = randomPrefix('mplease');
  const limiterPrefix = randomPrefix('mplimit');
  const fleetPrefix = randomPrefix('mpfleet');
  const breaker = 'upstream';
  const statements = fencedWriteStatements(tables.log, tables.mark);
  let admin: pg.Pool;
  let ownRedis: PersistentRedis | undefined;
  let redisUrl = REDIS_URL;
  let harness: ServiceHarness;
  /** Records a measured time for the summary printed at the end. */
  const note = (what: string, ms: number): void => void measured.push(`${backend}: ${what}: ${Math.round(ms)} ms`);

  /** The run going on, once it has had two writes taken: the holder a fault is applied to. */
  const holder = (): Promise<Run> =>
    waitFor(
      () => {
        const run = harness.current();
        return run !== undefined && run.writes.filter((write) => write.accepted).length >= 2 ? run : undefined;
      },
      ttlMs * 5,
      () => `no holder writing; events: ${JSON.stringify(harness.events.slice(-10))}`,
    );

  const log = async (): Promise<LoggedWrite[]> => loggedWrites((await admin.query(statements.log)).rows);

  beforeAll(async () => {
    admin = postgresPool();
    for (const statement of statements.create) await admin.query(statement);
    if (backend === 'redis') {
      ownRedis = await startPersistentRedis();
      redisUrl = ownRedis.url;
    }
    harness = new ServiceHarness({
      lease: { backend, name: 'writer', ttlMs, retryMs, table: tables.lease, prefix: leasePrefix },
      databaseUrl: DATABASE_URL,
      redisUrl,
      writes: { log: tables.log, mark: tables.mark, everyMs: 25 },
      limiter: { name: 'shared', prefix: limiterPrefix, limit: 10, windowMs: 60_000 },
      breakers: { name: breaker, prefix: fleetPrefix, heartbeatMs: 1000 },
    });
    await Promise.all(['a', 'b', 'c'].map((id) => harness.spawn(id)));
  }, 60_000);

  afterAll(async () => {
    // Whatever happened above, nothing is left running, in the database or in Redis.
    await harness?.killAll();
    for (const statement of statements.drop) await admin.query(statement).catch(() => undefined);
    await admin.query(`DROP TABLE IF EXISTS "${tables.lease}"`).catch(() => undefined);
    await admin.end();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await deleteKeys(redis, limiterPrefix).catch(() => undefined);
    await deleteKeys(redis, leasePrefix).catch(() => undefined);
    await deleteKeys(redis, fleetPrefix).catch(() => undefined);
    redis.disconnect();
    await ownRedis?.dispose();
  });

  it('one process runs the singleton and writes fenced rows; the other two stand by', async () => {
    const run = await holder();
    await sleep(ttlMs);
    expect(harness.runs()).toHaveLength(1);
    expect(harness.current()?.instance).toBe(run.instance);
    expect(harness.events.filter((event) => event.type === 'lease.acquired').map((event) => event.instance)).toEqual([run.instance]);
    // A fresh lease table starts fences at 1; a Redis lease seeds its missing counter from Redis's clock (ms).
    if (backend === 'postgres') expect(run.fence).toBe(1);
    else expect(run.fence).toBeGreaterThan(Date.now() - 60_000);
  });

  it('the Redis limiter is shared: the three processes together admit exactly its limit', async () => {
    const decisions = await Promise.all(harness.live().flatMap((instance) => Array.from({ length: 6 }, () => harness.hit(instance, `shared-${backend}`))));
    expect(decisions).toHaveLength(18);
    expect(decisions.filter(Boolean)).toHaveLength(10);
  });

  it('SIGKILL the holder: a standby takes over within ttlMs + retryMs, with fence + 1', async () => {
    const run = await holder();
    const victim = harness.instance(run.instance);
    const killedAt = Date.now();
    victim.signal('SIGKILL');
    expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const next = await waitFor(() => harness.runAfter(killedAt), ttlMs * 3, () => 'no standby took over');
    note('SIGKILL → standby running', next.startedAt - killedAt);
    expect(next.instance).not.toBe(run.instance);
    expect(next.fence).toBe(run.fence + 1);
    expect(next.startedAt - killedAt).toBeLessThanOrEqual(ttlMs + retryMs + SLACK_MS);
    await harness.spawn('d');
  });

  it('SIGSTOP the holder past its TTL, then SIGCONT: the new holder takes over; the old one stops its actor as soon as it runs again and writes nothing more', async () => {
    const run = await holder();
    const paused = harness.instance(run.instance);
    const pausedAt = Date.now();
    paused.signal('SIGSTOP');
    try {
      const next = await waitFor(() => harness.runAfter(pausedAt, { than: run.instance }), ttlMs * 3, () => 'no standby took over from the paused holder');
      note('SIGSTOP → standby running', next.startedAt - pausedAt);
      expect(next.fence).toBe(run.fence + 1);
      expect(next.startedAt - pausedAt).toBeLessThanOrEqual(ttlMs + retryMs + SLACK_MS);
      const firstWrite = await waitFor(() => harness.runOf(next)!.writes.find((write) => write.accepted), ttlMs, () => 'the new holder did not write');
      await sleep(Math.max(0, pausedAt + ttlMs * 1.5 - Date.now()));
      const resumedAt = Date.now();
      paused.signal('SIGCONT');
      const stoppedAt = await waitFor(() => harness.runOf(run)!.stoppedAt, ttlMs, () => 'the resumed holder did not stop its actor');
      note('SIGCONT → old actor stopped', stoppedAt - resumedAt);
      expect(stoppedAt - resumedAt).toBeLessThan(200);
      expect(harness.after('lease.lost', resumedAt, run.instance).map((event) => event.reason)).toEqual(['expired']);
      await sleep(ttlMs / 2);
      // Nothing sent with the old fence once it ran again (a write in flight when it was stopped may still settle).
      const late = harness.after('write', resumedAt, run.instance).filter((write) => write.sentAt >= resumedAt);
      expect(late).toEqual([]);
      // The log: no write of the old fence after the new fence's first.
      const rows = await log();
      expect(rows.filter((row) => row.fence === run.fence && row.seq > firstWrite.seq!)).toEqual([]);
      expect(rows.find((row) => row.fence === next.fence)?.seq).toBe(firstWrite.seq);
      expect(paused.alive).toBe(true);
    } finally {
      if (paused.paused) paused.signal('SIGCONT');
    }
  });

  if (backend === 'postgres') {
    it("pg_terminate_backend of the holder's connections: the holder reconnects and keeps the lease, or loses it and a standby takes over; writing resumes within ttlMs + retryMs", async () => {
      const run = await holder();
      const terminatedAt = Date.now();
      const terminated = await admin.query('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1', [run.instance]);
      expect(terminated.rows.length).toBeGreaterThanOrEqual(1);
      expect(terminated.rows.every((row: { done: boolean }) => row.done)).toBe(true);
      const resumed = await waitFor(
        () => harness.after('write', terminatedAt).find((write) => write.accepted && write.sentAt > terminatedAt),
        ttlMs + retryMs + SLACK_MS,
        () => `no accepted write after pg_terminate_backend; events: ${JSON.stringify(harness.after('write', terminatedAt).slice(-5))}`,
      );
      note(`pg_terminate_backend (${terminated.rows.length} connections) → next accepted write (by ${resumed.instance === run.instance ? 'the same holder' : 'a standby'})`, resumed.at - terminatedAt);
      await sleep(ttlMs);
      const now = harness.current();
      expect(now).toBeDefined();
      if (now!.instance === run.instance && now!.fence === run.fence) {
        measured.push(`${backend}: pg_terminate_backend: the holder kept the lease (same fence), ${harness.after('lease.lost', terminatedAt).length} losses reported`);
      } else {
        expect(now!.fence).toBeGreaterThan(run.fence);
        note(`pg_terminate_backend: lease moved to ${now!.instance} with fence ${now!.fence}, after`, now!.startedAt - terminatedAt);
      }
    });
  } else {
    it('Redis restarted: the holder stops its actor before Redis could let the lease go; nobody holds while Redis is down; after the restart a process takes over with a larger fence, and the limiter answers again', async () => {
      const run = await holder();
      const killedAt = Date.now();
      await ownRedis!.kill();
      const stoppedAt = await waitFor(() => harness.runOf(run)!.stoppedAt, ttlMs * 2, () => 'the holder did not stop while Redis was down');
      note('Redis killed → holder stopped its actor', stoppedAt - killedAt);
      // The holder's last renewal was sent at most ttlMs / 3 before the kill: its local deadline (and so the stop) comes by 0.9 × ttlMs after it.
      expect(stoppedAt - killedAt).toBeLessThanOrEqual(ttlMs * 0.9);
      expect(harness.after('lease.lost', killedAt, run.instance).map((event) => event.reason)).toEqual(['unavailable']);
      await sleep(Math.max(0, killedAt + ttlMs * 1.5 - Date.now()));
      expect(harness.runAfter(killedAt)).toBeUndefined();
      const restartedAt = Date.now();
      await ownRedis!.restart();
      const next = await waitFor(() => harness.runAfter(restartedAt), retryMs * 3 + SLACK_MS * 2, () => 'no process took the lease after the restart');
      note('Redis restarted → a process running the singleton', next.startedAt - restartedAt);
      expect(next.fence).toBe(run.fence + 1);
      await waitFor(() => harness.runOf(next)!.writes.find((write) => write.accepted), ttlMs, () => 'the new holder did not write');
      // Each process's limiter answers again once its client has reconnected: a hit that cannot
      // reach Redis within 3/4 of the limiter's timeoutMs is refused as LimiterUnavailableError
      // (it counts nothing), so each asks until one is admitted.
      const answered = await Promise.all(
        harness.live().map(async (instance) => {
          const asked = Date.now();
          await expect.poll(() => harness.hit(instance, 'after-restart').catch(() => false), { timeout: 5000, interval: 100 }).toBe(true);
          return Date.now() - asked;
        }),
      );
      note('Redis restarted → every limiter admitting again (slowest process)', Math.max(...answered));
    });
  }

  it('a graceful stop (SIGTERM) of the holder hands over well under the TTL, with fence + 1; the stopped process exits 0 by itself', async () => {
    const run = await holder();
    const leaving = harness.instance(run.instance);
    const stoppedAt = Date.now();
    expect(await harness.terminate(leaving)).toEqual({ code: 0, signal: null });
    expect(harness.after('stopped', stoppedAt, run.instance)).toHaveLength(1);
    expect(harness.after('lease.released', stoppedAt, run.instance).map((event) => event.confirmed)).toEqual([true]);
    const next = await waitFor(() => harness.runAfter(stoppedAt, { than: run.instance }), ttlMs, () => 'no standby took over after the graceful stop');
    note('SIGTERM → standby running', next.startedAt - stoppedAt);
    // The release is at once and notifies the standbys, which try at once (their retryMs poll is
    // the fallback): the bound is the poll, the notice makes it tens of milliseconds.
    expect(next.startedAt - stoppedAt).toBeLessThanOrEqual(retryMs + SLACK_MS);
    expect(next.fence).toBe(run.fence + 1);
    const ended = harness.runOf(run)!;
    expect(ended.stoppedAt).toBeLessThanOrEqual(next.startedAt);
    await harness.spawn('e');
  });

  it('isolate the shared breaker on one process: the other two refuse within 1 s; restore from another: all three admit again', async () => {
    const live = harness.live();
    expect(live).toHaveLength(3);
    // Every fleet subscribed (the one spawned last may still be subscribing), every breaker admitting.
    for (const instance of live) await expect.poll(async () => (await harness.view(instance)).subscribed, { timeout: 5000, interval: 50 }).toBe(true);
    for (const instance of live) expect(await harness.call(instance)).toMatchObject({ outcome: 'ran', state: 'closed' });

    const [isolating, ...others] = live as [(typeof live)[number], ...typeof live];
    const isolateSentAt = Date.now();
    expect((await harness.isolate(isolating, 'multi-process scenario')).by).toBe(isolating.id);
    // The moment each breaker started refusing: its state() turned 'disabled' under the isolation (reported by the process as it happened).
    const refusing = (instance: (typeof live)[number], since: number, isolated: boolean) =>
      waitFor(
        () => harness.after('breaker.state', since, instance.id).find((event) => event.isolated === isolated),
        2000,
        () => `${instance.id}'s breaker did not ${isolated ? 'refuse' : 'admit again'}; events: ${JSON.stringify(harness.after('breaker.state', since))}`,
      );
    const refused = await Promise.all(others.map((instance) => refusing(instance, isolateSentAt, true)));
    refused.forEach((event) => note(`isolate sent to ${isolating.id} → ${event.instance}'s breaker refusing`, event.at - isolateSentAt));
    for (const event of refused) {
      expect(event.state).toBe('disabled');
      expect(event.at - isolateSentAt).toBeLessThan(1000);
    }
    for (const instance of live) expect(await harness.call(instance)).toEqual(expect.objectContaining({ outcome: 'refused', state: 'disabled', isolatedBy: isolating.id }));
    // Each process's view shows every process's breaker isolated.
    await expect
      .poll(async () => (await harness.view(others[0]!)).view, { timeout: 2000, interval: 50 })
      .toMatchObject(Object.fromEntries(live.map((instance) => [instance.id, { [breaker]: { state: 'disabled', isolated: true } }])));

    const restoreSentAt = Date.now();
    expect(await harness.restore(others[1]!)).toBe(true);
    const admitting = await Promise.all(live.map((instance) => refusing(instance, restoreSentAt, false)));
    admitting.forEach((event) => note(`restore sent to ${others[1]!.id} → ${event.instance}'s breaker admitting`, event.at - restoreSentAt));
    for (const event of admitting) {
      expect(event.state).toBe('closed');
      expect(event.at - restoreSentAt).toBeLessThan(1000);
    }
    for (const instance of live) expect(await harness.call(instance)).toMatchObject({ outcome: 'ran', state: 'closed' });
  });

  it('over the whole run: fences strictly increase, holders never overlap, every write is in the log in order, every process exits cleanly, nothing is left in the database or Redis', async () => {
    await holder();
    const live = harness.live();
    const endedAt = Date.now();
    const exits = await Promise.all(live.map((instance) => harness.terminate(instance)));
    expect(exits).toEqual(live.map(() => ({ code: 0, signal: null })));
    expect(harness.after('stopped', endedAt).map((event) => event.instance).sort()).toEqual(live.map((instance) => instance.id).sort());
    expect(harness.events.filter((event) => event.type === 'fault')).toEqual([]);
    expect(harness.live()).toEqual([]);

    const runs = harness.runs();
    expect(fenceViolations(runs)).toEqual([]);
    const windows = windowOverlaps(runs);
    expect(windows.violations).toEqual([]);
    if (windows.smallestGapMs !== undefined) note('smallest gap between two holders’ writes', windows.smallestGapMs);
    expect(runs.filter((run) => run.stoppedAt === undefined && harness.instance(run.instance).exit?.signal !== 'SIGKILL')).toEqual([]);

    const rows = await log();
    expect(logViolations(rows)).toEqual([]);
    const killed = new Set([...harness.instances.values()].filter((instance) => instance.exit?.signal === 'SIGKILL').map((instance) => instance.id));
    expect(unexplainedWrites(rows, runs, killed)).toEqual([]);

    // The last holder released the lease on its way out.
    if (backend === 'postgres') {
      const lease = await admin.query(`SELECT expires_at <= now() AS free FROM "${tables.lease}" WHERE name = 'writer'`);
      expect(lease.rows).toEqual([{ free: true }]);
    } else {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        expect(await redis.exists(leaseKeys(leasePrefix, 'writer').holder)).toBe(0);
      } finally {
        redis.disconnect();
      }
    }

    for (const statement of statements.drop) await admin.query(statement);
    await admin.query(`DROP TABLE IF EXISTS "${tables.lease}"`);
    const left = await admin.query('SELECT to_regclass($1) AS a, to_regclass($2) AS b, to_regclass($3) AS c', [tables.log, tables.mark, `"${tables.lease}"`]);
    expect(left.rows).toEqual([{ a: null, b: null, c: null }]);
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    try {
      // The restored isolation was deleted; a fleet keeps nothing else in Redis (its channel is not a key).
      expect(await keysUnder(redis, fleetPrefix)).toEqual([]);
      await deleteKeys(redis, limiterPrefix);
      await deleteKeys(redis, leasePrefix);
      expect([...(await keysUnder(redis, limiterPrefix)), ...(await keysUnder(redis, leasePrefix))]).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
