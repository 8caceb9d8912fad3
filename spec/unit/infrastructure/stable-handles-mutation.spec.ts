import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stablePool, stableThreadPool } from '../../../src/infrastructure/stable-handles.js';
import {
  InfrastructureLookupError,
  isPoolStoppedError,
  poolChild,
  startInfrastructure,
  threadPoolChild,
  type Infrastructure,
} from '../../../src/index.js';
import type { CrashResult, CrashTask } from '../../../workers/tasks.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

const crashWorker = fileURLToPath(new URL('../../../workers/crash.mjs', import.meta.url));

const started: Infrastructure[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((infra) => infra.stop()));
});

/** A namespace with a pool of two numbered workers, recording which workers were destroyed. */
async function poolTree() {
  const { clock, telemetry } = recordTelemetry();
  let created = 0;
  const destroyed: number[] = [];
  const infra = await startInfrastructure({
    clock,
    telemetry,
    namespaces: {
      billing: {
        pools: { db: { size: 2, maxOverflow: 0, worker: { create: () => ({ id: ++created }), destroy: (worker: { id: number }) => void destroyed.push(worker.id) } } },
      },
    },
  });
  started.push(infra);
  return { infra, pool: infra.pool<{ id: number }>('billing', 'db'), destroyed };
}

/** A namespace with a one-thread pool running workers/crash.mjs. */
async function threadTree() {
  const { clock, telemetry } = recordTelemetry();
  const infra = await startInfrastructure({
    clock,
    telemetry,
    namespaces: { jobs: { threadPools: { cpu: { filename: crashWorker, minThreads: 1, maxThreads: 1 } } } },
  });
  started.push(infra);
  return { infra, pool: infra.threadPool<CrashTask, CrashResult>('jobs', 'cpu') };
}

describe('a stable pool handle reaches the running pool', () => {
  it('tryCheckout checks out an idle worker of the pool', async () => {
    const { pool } = await poolTree();
    const lease = pool.tryCheckout();
    expect(lease?.worker.id).toBeGreaterThan(0);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 1 });
    lease!.release();
  });

  it('stop stops the pool: its workers are destroyed', async () => {
    const { pool, destroyed } = await poolTree();
    await pool.stop();
    expect(destroyed.sort()).toEqual([1, 2]);
  });

  it('asyncDispose stops the pool as stop does', async () => {
    const { pool, destroyed } = await poolTree();
    await pool[Symbol.asyncDispose]();
    expect(destroyed.sort()).toEqual([1, 2]);
  });

  it('reconfigure changes the running pool', async () => {
    const { pool } = await poolTree();
    pool.reconfigure({ size: 4 });
    expect(pool.status()).toMatchObject({ idle: 4 });
  });

  it('before its pool first starts, a handle is a lookup error naming the pool', () => {
    const handle = stablePool(poolChild({ name: 'billing.db', size: 1, worker: { create: () => ({}) } }), 'billing.db');
    expect(() => handle.status()).toThrow(InfrastructureLookupError);
    expect(() => handle.status()).toThrow("the infrastructure has no running pool 'billing.db'");
  });
});

describe('a stable thread-pool handle reaches the running thread pool', () => {
  it('is a child threads:<name> of its namespace, named <namespace>.<name>, and runs tasks', async () => {
    const { infra, pool } = await threadTree();
    expect(infra.namespace('jobs').whichChildren().map((child) => child.id)).toEqual(['threads:cpu']);
    expect(pool.name).toBe('jobs.cpu');
    expect(await pool.run({ kind: 'value', value: 7 })).toBe(7);
    expect(pool.status().phase).toBe('running');
    expect(pool.actor).toBe(infra.namespace('jobs').whichChildren()[0]?.ref);
  });

  it('keeps reaching the thread pool across a restart', async () => {
    const { infra, pool } = await threadTree();
    const first = pool.actor;
    first.stop();
    await flush();
    expect(pool.actor).not.toBe(first);
    expect(pool.actor).toBe(infra.namespace('jobs').whichChildren()[0]?.ref);
    expect(await pool.run({ kind: 'value', value: 8 })).toBe(8);
  });

  it('stop stops the thread pool: a running task is rejected', async () => {
    const { pool } = await threadTree();
    let outcome = 'pending';
    const running = pool.run({ kind: 'sleep', ms: 60_000, value: 1 }).then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = isPoolStoppedError(error) ? 'stopped' : String(error)),
    );
    await pool.stop();
    await flush();
    expect(outcome).toBe('stopped');
    await running;
  });

  it('asyncDispose stops the thread pool as stop does', async () => {
    const { pool } = await threadTree();
    let outcome = 'pending';
    const running = pool.run({ kind: 'sleep', ms: 60_000, value: 1 }).then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = isPoolStoppedError(error) ? 'stopped' : String(error)),
    );
    await pool[Symbol.asyncDispose]();
    await flush();
    expect(outcome).toBe('stopped');
    await running;
  });

  it('before its thread pool first starts, a handle is a lookup error naming it', async () => {
    const handle = stableThreadPool(threadPoolChild({ name: 'jobs.cpu', filename: crashWorker }), 'jobs.cpu');
    expect(handle.name).toBe('jobs.cpu');
    expect(() => handle.status()).toThrow("the infrastructure has no running thread pool 'jobs.cpu'");
    await expect(handle.run({ kind: 'value', value: 1 })).rejects.toBeInstanceOf(InfrastructureLookupError);
  });
});
