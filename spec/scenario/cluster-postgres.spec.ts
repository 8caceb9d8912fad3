import type pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, type TelemetryEvent } from '../../src/index.js';
import { createPostgresLease, isLeaseUnavailableError, type LeaseLoss } from '../../src/cluster/index.js';
import { startTcpProxy, type TcpProxy } from '../support/cluster-proxy.js';
import { postgresAvailable, postgresPool, postgresPort, randomTable, singletonInstance, sleep, statusOf } from '../support/cluster-stores.js';

/**
 * PostgreSQL leases against the real server at DATABASE_URL (pg pools, some through a TCP proxy
 * the spec pauses or cuts), on the real clock. Every table is this file's own and dropped after;
 * every wait is bounded.
 */
const ttlMs = 2000;
const pools: pg.Pool[] = [];
const proxies: TcpProxy[] = [];
const tables = new Set<string>();
const cleanups: Array<() => Promise<unknown>> = [];

function pool(options: { port?: number } = {}): pg.Pool {
  const created = postgresPool(options);
  pools.push(created);
  return created;
}

function table(label: string): string {
  const name = randomTable(label);
  tables.add(name);
  return name;
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  for (const proxy of proxies.splice(0)) await proxy.close();
});

afterAll(async () => {
  if (!postgresAvailable) return;
  const admin = postgresPool();
  for (const name of tables) await admin.query(`DROP TABLE IF EXISTS "${name}"`);
  await admin.end();
  await Promise.all(pools.map((created) => created.end().catch(() => undefined)));
});

async function row(admin: pg.Pool, tableName: string, name: string) {
  const result = await admin.query(`SELECT owner, fence::int AS fence, expires_at > now() AS live FROM "${tableName}" WHERE name = $1`, [name]);
  return result.rows[0] as { owner: string; fence: number; live: boolean } | undefined;
}

describe.skipIf(!postgresAvailable)('PostgreSQL leases (real server)', () => {
  it('creates its table and takes a free lease with fence 1; another owner is refused; all state is in the row', async () => {
    const shared = pool();
    const name = table('basic');
    const a = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'a' });
    const b = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'b' });
    cleanups.push(() => a.release(), () => b.release());
    await expect(a.acquire()).resolves.toBe(true);
    expect(a.fence).toBe(1);
    await expect(b.acquire()).resolves.toBe(false);
    expect(await row(shared, name, 'job')).toEqual({ owner: 'a', fence: 1, live: true });
    const columns = await shared.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [name]);
    expect(columns.rows.map((column) => column.column_name)).toEqual(['name', 'owner', 'fence', 'expires_at']);
  });

  it('keeps the lease renewed past its TTL, then after the holder stops renewing the other owner takes it over with fence + 1, not before the database expires it', async () => {
    const shared = pool();
    const name = table('takeover');
    const telemetry = createTelemetry();
    const renewals: TelemetryEvent[] = [];
    telemetry.select('lease.renewed').subscribe((event) => renewals.push(event));
    const cut = { on: false };
    const flaky = { query: (text: string, values?: unknown[]) => (cut.on ? Promise.reject(new Error('connection cut')) : shared.query(text, values)) };
    const a = createPostgresLease({ name: 'job', pool: flaky, table: name, ttlMs, owner: 'a', telemetry });
    const b = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'b' });
    cleanups.push(() => b.release());
    const losses: LeaseLoss[] = [];
    a.onLost((_reason, loss) => losses.push(loss));
    await a.acquire();
    await sleep(ttlMs * 1.5);
    expect(a.isHeld()).toBe(true);
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(renewals.every((event) => event.metadata.fence === 1)).toBe(true);
    cut.on = true;
    await expect.poll(() => losses.length, { timeout: ttlMs }).toBe(1);
    expect(losses[0]!.reason).toBe('unavailable');
    // The database still keeps a's holding: b is refused until it expires there.
    await expect(b.acquire()).resolves.toBe(false);
    expect((await row(shared, name, 'job'))?.live).toBe(true);
    await expect.poll(() => b.acquire(), { timeout: ttlMs * 2, interval: 50 }).toBe(true);
    expect(b.fence).toBe(2);
    expect(await row(shared, name, 'job')).toEqual({ owner: 'b', fence: 2, live: true });
  });

  it('release() lets another owner take it at once, with fence + 1', async () => {
    const shared = pool();
    const name = table('release');
    const a = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'a' });
    const b = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'b' });
    cleanups.push(() => b.release());
    await a.acquire();
    await a.release();
    expect(a.isHeld()).toBe(false);
    await expect(b.acquire()).resolves.toBe(true);
    expect(b.fence).toBe(2);
  });

  it('another object of the same owner acquires it with the same fence', async () => {
    const shared = pool();
    const name = table('twin');
    const a = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'host-1' });
    const again = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'host-1' });
    cleanups.push(() => a.release());
    await a.acquire();
    await expect(again.acquire()).resolves.toBe(true);
    expect(again.fence).toBe(a.fence);
  });

  it('five leases used for the first time at once, each on its own connection, create the table once and exactly one holds it', async () => {
    for (let round = 0; round < 5; round += 1) {
      const name = table(`first${round}`);
      const separate = Array.from({ length: 5 }, () => pool());
      // A long TTL: this is about the race, not about time (a loaded machine may take a while to create a table).
      const leases = separate.map((own, index) => createPostgresLease({ name: 'job', pool: own, table: name, ttlMs: 15_000, owner: `p${index}` }));
      // Every pool opens its connection first, so the five CREATE TABLE statements really race.
      await Promise.all(separate.map((own) => own.query('select 1')));
      const answers = await Promise.allSettled(leases.map((lease) => lease.acquire()));
      expect(answers.filter((answer) => answer.status === 'rejected')).toEqual([]);
      expect(answers.filter((answer) => answer.status === 'fulfilled' && answer.value)).toHaveLength(1);
      await Promise.all(leases.map((lease) => lease.release()));
      await Promise.all(separate.map((own) => own.end()));
      pools.splice(pools.length - separate.length);
    }
  });

  it('acquire() rejects LeaseUnavailableError within ttlMs when the database stops answering; a held lease is lost before the database lets it go', async () => {
    const proxy = await startTcpProxy(postgresPort);
    proxies.push(proxy);
    const name = table('silent');
    const throughProxy = pool({ port: proxy.port });
    const direct = pool();
    const a = createPostgresLease({ name: 'job', pool: throughProxy, table: name, ttlMs, owner: 'a' });
    const late = createPostgresLease({ name: 'other', pool: throughProxy, table: name, ttlMs, owner: 'a' });
    await a.acquire();
    const losses: LeaseLoss[] = [];
    a.onLost((_reason, loss) => losses.push(loss));
    proxy.pause();
    const started = performance.now();
    const error = await late.acquire().catch((caught: unknown) => caught);
    expect(isLeaseUnavailableError(error)).toBe(true);
    expect((error as { reason: string }).reason).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(ttlMs);
    await expect.poll(() => losses.length, { timeout: ttlMs }).toBe(1);
    expect(losses[0]!.reason).toBe('unavailable');
    expect(a.isHeld()).toBe(false);
    // Lost here while the database still keeps the holding (it lets it go only at ttlMs after the last renewal).
    expect(await row(direct, name, 'job')).toMatchObject({ owner: 'a', live: true });
    proxy.cut();
    proxy.resume();
  });
});

describe.skipIf(!postgresAvailable)('singleton children on PostgreSQL leases (two supervisors in one process)', () => {
  it('one runs, the other stands by; a graceful stop hands over well under the TTL, with fence + 1', async () => {
    const shared = pool();
    const name = table('singleton');
    const leaseA = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'a' });
    const leaseB = createPostgresLease({ name: 'job', pool: shared, table: name, ttlMs, owner: 'b' });
    const a = await singletonInstance(leaseA, { retryMs: 50, drainMs: 20 });
    cleanups.push(() => a.supervisor.stop());
    await expect.poll(() => a.runs.length, { timeout: 2000 }).toBe(1);
    const b = await singletonInstance(leaseB, { retryMs: 50 });
    cleanups.push(() => b.supervisor.stop());
    await sleep(300);
    expect(b.runs).toHaveLength(0);
    expect(a.runs[0]!.fence).toBe(1);
    const stoppedAt = performance.now();
    await a.supervisor.stop();
    expect(statusOf(a.runs[0]!.actor)).toBe('done');
    await expect.poll(() => b.runs.length, { timeout: ttlMs / 2, interval: 10 }).toBe(1);
    expect(performance.now() - stoppedAt).toBeLessThan(ttlMs / 2);
    expect(b.runs[0]!.fence).toBe(2);
  });

  it("cutting the holder's database connection stops its actor before the database lets the lease go; then the standby takes over", async () => {
    const proxy = await startTcpProxy(postgresPort);
    proxies.push(proxy);
    const name = table('cut');
    const direct = pool();
    const leaseA = createPostgresLease({ name: 'job', pool: pool({ port: proxy.port }), table: name, ttlMs, owner: 'a' });
    const leaseB = createPostgresLease({ name: 'job', pool: direct, table: name, ttlMs, owner: 'b' });
    // The database is asked the moment the actor ends (sent synchronously from its end), so its
    // answer is its state at the stop, not after a busy machine got round to asking.
    let atStop: ReturnType<typeof row> | undefined;
    const a = await singletonInstance(leaseA, {
      retryMs: 50,
      drainMs: 'never',
      shutdown: 10_000,
      onRunEnded: () => {
        atStop ??= row(direct, name, 'job');
      },
    });
    cleanups.push(() => a.supervisor.stop());
    await expect.poll(() => a.runs.length, { timeout: 2000 }).toBe(1);
    const b = await singletonInstance(leaseB, { retryMs: 50 });
    cleanups.push(() => b.supervisor.stop());
    proxy.pause();
    await expect.poll(() => a.runs[0]!.endedAt, { timeout: ttlMs, interval: 5 }).toBeDefined();
    // The actor is gone, and the database still names a as the holder: it was stopped before the lease could expire anywhere.
    expect(statusOf(a.runs[0]!.actor)).toBe('stopped');
    expect(await atStop!).toMatchObject({ owner: 'a', live: true });
    expect(b.runs).toHaveLength(0);
    await expect.poll(() => b.runs.length, { timeout: ttlMs * 2, interval: 20 }).toBe(1);
    expect(b.runs[0]!.fence).toBe(2);
    expect(a.supervisor.whichChildren()).toHaveLength(1);
    proxy.cut();
    proxy.resume();
  });
});
