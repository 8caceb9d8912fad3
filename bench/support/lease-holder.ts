/**
 * One contender of `bench/cluster.bench.ts`'s takeover case, forked with `node --import tsx` and an
 * IPC channel: a supervisor whose one child is a singleton on a PostgreSQL or Redis lease (the
 * overseer the bench measures, see `target.ts`). It reports `ready` once its tree runs, `running`
 * (with the fence and its `Date.now()`: one machine, one wall clock) when the singleton's actor
 * starts, and on `stop` stops the tree, closes its connections and exits by itself.
 *
 * Configuration: JSON in OVERSEER_BENCH_LEASE_HOLDER
 * (`{ owner, backend, name, ttlMs, retryMs, databaseUrl, table, redisUrl, prefix }`).
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { createActor, setup } from 'xstate';
import { loadOverseer } from './target.js';

export const HOLDER_CONFIG_ENV = 'OVERSEER_BENCH_LEASE_HOLDER';

/** What a holder is started with. */
export interface HolderConfig {
  readonly owner: string;
  readonly backend: 'postgres' | 'redis';
  readonly name: string;
  readonly ttlMs: number;
  readonly retryMs: number;
  readonly databaseUrl: string;
  readonly table: string;
  readonly redisUrl: string;
  readonly prefix: string;
}

/** What a holder reports. */
export type HolderEvent = { readonly type: 'ready'; readonly owner: string } | { readonly type: 'running'; readonly owner: string; readonly fence: number; readonly at: number };

// Run only as the forked entry point: the bench imports this module for its types and constants.
if (process.env[HOLDER_CONFIG_ENV] !== undefined && typeof process.send === 'function') {
  const config = JSON.parse(process.env[HOLDER_CONFIG_ENV]) as HolderConfig;
  const { overseer } = await loadOverseer();
  const send = (event: HolderEvent): void => {
    if (process.connected) process.send!(event, undefined, undefined, () => undefined);
  };
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: config.backend !== 'redis' });
  redis.on('error', () => undefined);
  const lease =
    config.backend === 'postgres'
      ? overseer.createPostgresLease({ name: config.name, pool, table: config.table, ttlMs: config.ttlMs, owner: config.owner })
      : overseer.createRedisLease({ name: config.name, redis, prefix: config.prefix, ttlMs: config.ttlMs, owner: config.owner });
  const idle = setup({}).createMachine({ id: 'singleton', initial: 'running', states: { running: { on: { 'overseer.shutdown': 'done' } }, done: { type: 'final' } } });
  const supervisor = await overseer.startSupervisor(
    {
      children: [
        overseer.singletonChild({
          id: 'singleton',
          lease,
          retryMs: config.retryMs,
          start: ({ fence, clock }) => {
            const actor = createActor(idle, { clock });
            actor.subscribe({ next: () => undefined });
            send({ type: 'running', owner: config.owner, fence, at: Date.now() });
            return actor;
          },
        }),
      ],
    },
    { id: config.owner, telemetry: overseer.createTelemetry() },
  );
  let stopping = false;
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'stop' || stopping) return;
    stopping = true;
    void (async () => {
      await supervisor.stop();
      await pool.end();
      redis.disconnect();
      process.removeAllListeners('message');
      process.disconnect();
    })();
  });
  process.on('disconnect', () => {
    if (!stopping) process.exit(0);
  });
  send({ type: 'ready', owner: config.owner });
}
