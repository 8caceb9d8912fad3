/**
 * The child process of `cluster-handover.spec.ts`'s exit check (not a spec): on the store named by
 * argv[2] ('redis' or 'postgres', at REDIS_URL / DATABASE_URL, under the prefix or table in
 * argv[3]), two supervisors each run a singleton child on one lease name, with release notices
 * on by default; the holder stops gracefully, the standby takes over, the standby stops; then the
 * script closes its own clients and does nothing more. The process must then exit by itself:
 * a LISTEN client or subscriber connection left open would keep it alive. It reports each step
 * on stdout as a JSON line.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { createActor, setup } from 'xstate';
import { createTelemetry, startSupervisor } from '../../src/index.js';
import { createPostgresLease, createRedisLease, singletonChild, type StoreLease } from '../../src/cluster/index.js';

const [backend, place] = process.argv.slice(2) as ['redis' | 'postgres', string];
const report = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(event)}\n`);

const pool = backend === 'postgres' ? new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', max: 2 }) : undefined;
const redis = backend === 'redis' ? new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 }) : undefined;

const idle = setup({}).createMachine({ initial: 'running', states: { running: { on: { 'overseer.shutdown': 'done' } }, done: { type: 'final' } } });
let running: string | undefined;

function lease(owner: string): StoreLease {
  return pool !== undefined
    ? createPostgresLease({ name: 'exit', pool, table: place, ttlMs: 3000, owner, telemetry: createTelemetry() })
    : createRedisLease({ name: 'exit', redis: redis!, prefix: place, ttlMs: 3000, owner, telemetry: createTelemetry() });
}

async function instance(owner: string) {
  const child = singletonChild({
    id: 'singleton',
    lease: lease(owner),
    start: ({ clock }) => {
      running = owner;
      return createActor(idle, { clock });
    },
  });
  return startSupervisor({ children: [child] }, { id: owner, telemetry: createTelemetry() });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const a = await instance('a');
await until(() => running === 'a', 'a did not run');
const b = await instance('b');
await new Promise((resolve) => setTimeout(resolve, 300));
const stoppedAt = performance.now();
await a.stop();
await until(() => running === 'b', 'b did not take over');
report({ step: 'handover', ms: performance.now() - stoppedAt });
await b.stop();
await pool?.end();
await redis?.quit();
report({ step: 'closed' });
