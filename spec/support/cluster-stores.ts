import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createActor, type AnyActorRef } from 'xstate';
import { createTelemetry, startSupervisor, type Supervisor } from '../../src/index.js';
import { singletonChild, type ClusterLease, type LeaseLoss, type LeaseRedis, type SingletonStartContext } from '../../src/cluster/index.js';
import { expect } from 'vitest';
import { workerMachine } from './actors.js';

/**
 * The real stores of the cluster scenario specs. PostgreSQL at `DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/postgres); each spec file uses a table of its own and drops
 * it. When the server does not answer the PostgreSQL specs are skipped with a notice, except in CI
 * (`CI=true`), where the import of this module fails loudly.
 */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgresProblem = await probePostgres();
if (postgresProblem !== undefined) {
  const message = `PostgreSQL at ${DATABASE_URL} does not answer (${postgresProblem})`;
  if (process.env.CI) throw new Error(`${message}: the cluster lease specs must run in CI`);
  console.warn(`NOTICE: ${message}: skipping the PostgreSQL lease specs`);
}

/** Whether the PostgreSQL specs run. */
export const postgresAvailable = postgresProblem === undefined;

/** The port of `DATABASE_URL` (for a proxy in front of it). */
export const postgresPort = Number(new URL(DATABASE_URL).port || 5432);

/** A pool on `DATABASE_URL`, or through `127.0.0.1:<port>` (a proxy) when given; errors of idle clients are ignored. */
export function postgresPool(options: { port?: number; max?: number } = {}): pg.Pool {
  const url = new URL(DATABASE_URL);
  if (options.port !== undefined) {
    url.hostname = '127.0.0.1';
    url.port = String(options.port);
  }
  const pool = new pg.Pool({ connectionString: url.toString(), max: options.max ?? 4, connectionTimeoutMillis: 2000 });
  pool.on('error', () => undefined);
  return pool;
}

/** A table name no other run uses. */
export function randomTable(label: string): string {
  return `spec_${label}_${randomBytes(5).toString('hex')}`;
}

/** Waits `ms` on the real clock (scenario specs only). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One "instance" of a service: a real supervisor (system clock) with a singleton child on
 * `lease`, whose actor is a worker machine (graceful shutdown taking `drainMs`). Records every
 * run: its fence, its actor, and when the actor ended (`performance.now()`); `onRunEnded` is
 * called at that moment, synchronously.
 */
export async function singletonInstance(
  lease: ClusterLease,
  options: { retryMs: number; drainMs?: number | 'never'; shutdown?: number; onRunEnded?: (run: { fence: number; actor: AnyActorRef }) => void },
) {
  const runs: Array<{ fence: number; actor: AnyActorRef; context: SingletonStartContext; endedAt?: number }> = [];
  const machine = workerMachine(options.drainMs === undefined ? {} : { drainMs: options.drainMs });
  const spec = singletonChild({
    id: 'singleton',
    lease,
    retryMs: options.retryMs,
    ...(options.shutdown === undefined ? {} : { shutdown: options.shutdown }),
    start: (context) => {
      const actor = createActor(machine, { clock: context.clock });
      const run: (typeof runs)[number] = { fence: context.fence, actor, context };
      const ended = (): void => {
        run.endedAt = performance.now();
        options.onRunEnded?.(run);
      };
      actor.subscribe({ complete: ended, error: ended });
      runs.push(run);
      return actor;
    },
  });
  const supervisor: Supervisor = await startSupervisor({ children: [spec] }, { id: lease.owner, telemetry: createTelemetry() });
  return { supervisor, runs, current: () => runs.at(-1) };
}

/** The status of an actor's snapshot. */
export function statusOf(actor: AnyActorRef | undefined): string | undefined {
  return (actor?.getSnapshot() as { status: string } | undefined)?.status;
}

/**
 * The Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, or of the whole key, mod
 * 16384), as the Redis Cluster specification defines it.
 */
export function hashSlot(key: string): number {
  const bytes = Buffer.from(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let index = start; index < end; index += 1) {
    crc ^= bytes[index]! << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/**
 * The renewal-then-takeover rule on a real Redis or Redis Cluster, shared by both specs: `a` holds
 * past its TTL with the same fence; then its connection is cut, it reports the loss as
 * `'unavailable'`, Redis still keeps it from `b`, and once Redis expires it `b` takes it with
 * fence + 1. `lease(owner, redis)` makes a lease object of one name on `redis`.
 */
export async function expectRenewalThenTakeover(redis: LeaseRedis, lease: (owner: string, redis: LeaseRedis) => ClusterLease, ttlMs: number): Promise<void> {
  const cut = { on: false };
  const flaky: LeaseRedis = {
    evalsha: (...args) => (cut.on ? Promise.reject(new Error('connection cut')) : redis.evalsha(...args)),
    eval: (...args) => (cut.on ? Promise.reject(new Error('connection cut')) : redis.eval(...args)),
  };
  const a = lease('a', flaky);
  const b = lease('b', redis);
  const losses: LeaseLoss[] = [];
  a.onLost((_reason, loss) => losses.push(loss));
  await a.acquire();
  const first = a.fence!;
  await sleep(ttlMs * 1.5);
  expect(a.isHeld()).toBe(true);
  expect(a.fence).toBe(first);
  cut.on = true;
  await expect.poll(() => losses.length, { timeout: ttlMs }).toBe(1);
  expect(losses[0]!.reason).toBe('unavailable');
  await expect(b.acquire()).resolves.toBe(false);
  await expect.poll(() => b.acquire(), { timeout: ttlMs * 2, interval: 50 }).toBe(true);
  expect(b.fence).toBe(first + 1);
}
