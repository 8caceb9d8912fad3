import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createActor } from 'xstate';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, startSupervisor, type Supervisor, type TelemetryEvent } from '../../src/index.js';
import { LeaseNoticeEvents, createPostgresLease, createRedisLease, singletonChild, type ReleaseNotice, type StoreLease } from '../../src/cluster/index.js';
import { releaseChannel as postgresChannel } from '../../src/cluster/postgres-lease.js';
import { releaseChannel as redisChannel } from '../../src/cluster/redis-lease.js';
import { workerMachine } from '../support/actors.js';
import { DATABASE_URL, postgresAvailable, randomTable, sleep } from '../support/cluster-stores.js';
import { REDIS_URL, deleteKeys, randomPrefix, redisAvailable } from '../support/limiter-redis.js';

/**
 * Graceful handover with release notices, against the real stores on loopback (PostgreSQL at
 * DATABASE_URL, Redis at REDIS_URL), on the real clock: real supervisors with singleton children
 * on default options (retryMs = ttlMs / 3), so a standby that takes over well under retryMs heard
 * the release rather than polled. Every table and key is this file's own and removed after; every
 * supervisor is stopped; every wait is bounded.
 */
const ttlMs = 3000;
const retryMs = ttlMs / 3;
/** What "well under retryMs" means here: a quarter of it (the notices take a few ms on loopback). */
const handoverWithinMs = retryMs / 4;

const supervisors: Supervisor[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((supervisor) => supervisor.stop().catch(() => undefined)));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Polls `check` every 5 ms until it gives a value; fails after `withinMs`. */
async function waitFor<T>(check: () => T | undefined | false, withinMs: number, what: string): Promise<T> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`${what} within ${withinMs} ms`);
    await sleep(5);
  }
}

/** A lease maker for one store, and what the spec needs to look at that store. */
interface Store {
  lease(options: { name: string; owner: string; telemetry: ReturnType<typeof createTelemetry> }): StoreLease;
  /** Drops the connection the leases listen on, as the store's operator could. */
  dropListener(): Promise<number>;
  /** How many connections listen on the release channel now. */
  listeners(): Promise<number>;
}

/** One "instance": a supervisor with a singleton child on default retryMs, and its lease's telemetry. */
async function instance(store: Store, owner: string, name = 'handover') {
  const telemetry = createTelemetry();
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const lease = store.lease({ name, owner, telemetry });
  const runs: Array<{ fence: number; at: number }> = [];
  const machine = workerMachine();
  const supervisor = await startSupervisor(
    {
      children: [
        singletonChild({
          id: 'singleton',
          lease,
          start: ({ fence, clock }) => {
            runs.push({ fence, at: performance.now() });
            return createActor(machine, { clock });
          },
        }),
      ],
    },
    { id: owner, telemetry: createTelemetry() },
  );
  supervisors.push(supervisor);
  return { lease, supervisor, runs, events, named: (event: string) => events.filter((entry) => entry.name === event) };
}

/** The handover, exit and drop specs, for one store. */
function handoverSuite(store: () => Store, exitArgs: () => [string, string]): void {
  it('a graceful stop hands over well under retryMs with default options, fence + 1 each time', async () => {
    let holder = await instance(store(), 'owner-0');
    await waitFor(() => holder.runs[0], ttlMs, 'the first holder did not run');
    const handovers: number[] = [];
    for (let round = 1; round <= 6; round += 1) {
      const standby = await instance(store(), `owner-${round}`);
      // It was refused, and listens: from now on it only polls every retryMs.
      await waitFor(() => standby.named(LeaseNoticeEvents.up).length > 0, ttlMs, 'the standby did not listen');
      await sleep(50);
      expect(standby.runs).toEqual([]);
      const fence = holder.runs.at(-1)!.fence;
      const stoppedAt = performance.now();
      await holder.supervisor.stop();
      const run = await waitFor(() => standby.runs[0], ttlMs, 'the standby did not take over');
      handovers.push(run.at - stoppedAt);
      expect(run.fence).toBe(fence + 1);
      holder = standby;
    }
    console.info(`graceful handovers (stop → standby running), retryMs ${retryMs}: ${handovers.map((ms) => `${ms.toFixed(1)} ms`).join(', ')}`);
    // A standby that polled would take over at a uniformly random point of its 1000 ms poll: five
    // of six under 250 ms by chance is a 0.5 % event. One sample may be slowed by a busy machine.
    expect(handovers.filter((ms) => ms >= handoverWithinMs).length).toBeLessThanOrEqual(1);
    expect(Math.max(...handovers)).toBeLessThan(retryMs);
  });

  it("a standby hears the releases of its lease's name and no other's", async () => {
    const holderX = await instance(store(), 'x-holder', 'x');
    const holderY = await instance(store(), 'y-holder', 'y');
    await waitFor(() => holderX.runs[0] !== undefined && holderY.runs[0] !== undefined, ttlMs, 'the holders did not run');
    const standby = store().lease({ name: 'x', owner: 'x-standby', telemetry: createTelemetry() });
    const notices: ReleaseNotice[] = [];
    cleanups.push(async () => standby[Symbol.asyncDispose]());
    standby.onReleased((notice) => notices.push(notice));
    await waitFor(() => notices.length > 0, ttlMs, 'the standby did not listen');
    // y's release is published first, on the same channel: by the time x's arrives, y's was heard.
    await holderY.supervisor.stop();
    await holderX.supervisor.stop();
    await waitFor(() => notices.includes('released'), ttlMs, "x's release was not heard");
    await sleep(50);
    expect(notices).toEqual(['listening', 'released']);
    await expect(standby.acquire()).resolves.toBe(true);
  });

  it('the listening connection dropped: lease.notices.down, then up again by itself, and the next handover is heard again', async () => {
    const holder = await instance(store(), 'drop-holder', 'drop');
    await waitFor(() => holder.runs[0], ttlMs, 'the holder did not run');
    const standby = await instance(store(), 'drop-standby', 'drop');
    await waitFor(() => standby.named(LeaseNoticeEvents.up).length > 0, ttlMs, 'the standby did not listen');
    expect(await store().dropListener()).toBeGreaterThanOrEqual(1);
    await waitFor(() => standby.named(LeaseNoticeEvents.down).length > 0, ttlMs, 'the drop was not reported');
    await waitFor(() => standby.named(LeaseNoticeEvents.up).length > 1, 5000, 'the lease did not listen again');
    const notices: Array<{ notice: ReleaseNotice; at: number }> = [];
    const stopListening = standby.lease.onReleased((notice) => notices.push({ notice, at: performance.now() }));
    cleanups.push(async () => stopListening());
    const stoppedAt = performance.now();
    await holder.supervisor.stop();
    const run = await waitFor(() => standby.runs[0], ttlMs, 'the standby did not take over');
    // It heard the release (the connection is back), and took over on it, not at a poll.
    expect(notices.filter(({ notice, at }) => notice === 'released' && at >= stoppedAt && at <= run.at)).toHaveLength(1);
    expect(run.at - stoppedAt).toBeLessThan(retryMs / 2);
  });

  it('stopping every singleton closes the listening connections; a process that did a handover exits by itself', async () => {
    const holder = await instance(store(), 'end-holder', 'end');
    await waitFor(() => holder.runs[0], ttlMs, 'the holder did not run');
    const standby = await instance(store(), 'end-standby', 'end');
    await waitFor(() => standby.named(LeaseNoticeEvents.up).length > 0, ttlMs, 'the standby did not listen');
    expect(await store().listeners()).toBeGreaterThanOrEqual(1);
    await holder.supervisor.stop();
    await standby.supervisor.stop();
    const deadline = performance.now() + 2000;
    let left = await store().listeners();
    while (left > 0 && performance.now() < deadline) {
      await sleep(20);
      left = await store().listeners();
    }
    expect(left).toBe(0);

    const child = fork(fileURLToPath(new URL('./cluster-handover-exit.ts', import.meta.url)), exitArgs(), {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = await Promise.race([
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
      sleep(20_000).then(() => undefined),
    ]);
    if (exit === undefined) child.kill('SIGKILL');
    const steps = output
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { step: string; ms?: number });
    expect(steps.map((step) => step.step)).toEqual(['handover', 'closed']);
    expect(steps[0]!.ms).toBeLessThan(retryMs);
    expect(exit).toEqual({ code: 0, signal: null });
  });
}

// ------------------------------------------------------------------ Redis

describe.skipIf(!redisAvailable)('graceful handover with release notices on Redis (real server)', () => {
  const prefix = randomPrefix('handover');
  const connectionName = `spec-handover-${randomBytes(4).toString('hex')}`;
  const redis = redisAvailable ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectionName }) : undefined;
  redis?.on('error', () => undefined);
  const admin = redisAvailable ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  /** The ids of this file's subscriber connections (named after the client they duplicate). */
  const subscriberIds = async (): Promise<string[]> => {
    const list = String(await admin!.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    return list
      .split('\n')
      .filter((line) => line.includes(` name=${connectionName} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
  };
  const store: Store = {
    lease: ({ name, owner, telemetry }) => createRedisLease({ name, owner, redis: redis!, prefix, ttlMs, telemetry }),
    async dropListener() {
      const ids = await subscriberIds();
      for (const id of ids) await admin!.client('KILL', 'ID', id);
      return ids.length;
    },
    async listeners() {
      const [, count] = (await admin!.pubsub('NUMSUB', redisChannel(prefix))) as [string, number];
      return Number(count);
    },
  };

  afterAll(async () => {
    await deleteKeys(admin!, prefix);
    await deleteKeys(admin!, `${prefix}exit`);
    redis!.disconnect();
    admin!.disconnect();
  });

  handoverSuite(
    () => store,
    () => ['redis', `${prefix}exit`],
  );

  it('a release publishes the holder key on <prefix>:lease-released; a release that ends nothing publishes nothing', async () => {
    const subscriber = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => subscriber.disconnect());
    const heard: Array<[string, string]> = [];
    subscriber.on('message', (channel: string, message: string) => heard.push([channel, message]));
    await subscriber.subscribe(redisChannel(prefix));
    const a = createRedisLease({ name: 'published', owner: 'a', redis: redis!, prefix, ttlMs, subscriber: false });
    const b = createRedisLease({ name: 'published', owner: 'b', redis: redis!, prefix, ttlMs, subscriber: false });
    cleanups.push(() => b.release());
    await a.acquire();
    await a.release();
    await b.acquire();
    // a's holding is gone: releasing again ends nothing (b holds).
    await a.release();
    await b.release();
    await waitFor(() => heard.length >= 2, ttlMs, 'the releases were not published');
    await sleep(50);
    const holder = `${prefix}:lease:{published}:holder`;
    expect(heard).toEqual([
      [`${prefix}:lease-released`, holder],
      [`${prefix}:lease-released`, holder],
    ]);
  });
});

// ------------------------------------------------------------------ PostgreSQL

describe.skipIf(!postgresAvailable)('graceful handover with release notices on PostgreSQL (real server)', () => {
  const table = randomTable('handover');
  const exitTable = randomTable('handover_exit');
  const applicationName = `spec-handover-${randomBytes(4).toString('hex')}`;
  const pool = postgresAvailable ? new pg.Pool({ connectionString: DATABASE_URL, max: 4, connectionTimeoutMillis: 2000, application_name: applicationName }) : undefined;
  pool?.on('error', () => undefined);
  const admin = postgresAvailable ? new pg.Pool({ connectionString: DATABASE_URL, max: 1 }) : undefined;
  /** The backends of this file's LISTEN clients: made as the pool makes its own, so with its application_name. */
  const listening = async (): Promise<number[]> => {
    const result = await admin!.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2`, [
      applicationName,
      `LISTEN "${postgresChannel(table)}"`,
    ]);
    return result.rows.map((row: { pid: number }) => row.pid);
  };
  const store: Store = {
    lease: ({ name, owner, telemetry }) => createPostgresLease({ name, owner, pool: pool!, table, ttlMs, telemetry }),
    async dropListener() {
      const pids = await listening();
      for (const pid of pids) await admin!.query('SELECT pg_terminate_backend($1)', [pid]);
      return pids.length;
    },
    async listeners() {
      return (await listening()).length;
    },
  };

  afterAll(async () => {
    await admin!.query(`DROP TABLE IF EXISTS "${table}"`);
    await admin!.query(`DROP TABLE IF EXISTS "${exitTable}"`);
    await pool!.end();
    await admin!.end();
  });

  handoverSuite(
    () => store,
    () => ['postgres', exitTable],
  );

  it('a release notifies <table>:released with the name once it commits; a release that ends nothing notifies nothing', async () => {
    const listener = new pg.Client({ connectionString: DATABASE_URL });
    listener.on('error', () => undefined);
    cleanups.push(() => listener.end());
    await listener.connect();
    const heard: Array<[string, string | undefined]> = [];
    listener.on('notification', (message) => heard.push([message.channel, message.payload]));
    await listener.query(`LISTEN "${postgresChannel(table)}"`);
    const a = createPostgresLease({ name: 'notified', owner: 'a', pool: pool!, table, ttlMs, listen: false });
    const b = createPostgresLease({ name: 'notified', owner: 'b', pool: pool!, table, ttlMs, listen: false });
    cleanups.push(() => b.release());
    await a.acquire();
    await a.release();
    await b.acquire();
    await a.release();
    await b.release();
    await waitFor(() => heard.length >= 2, ttlMs, 'the releases were not notified');
    await sleep(50);
    expect(heard).toEqual([
      [`${table}:released`, 'notified'],
      [`${table}:released`, 'notified'],
    ]);
  });
});
