import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBreaker, createPool, createRateLimiter, createTelemetry, protect, stageOf, type Pool } from '../../src/index.js';

/**
 * A real PostgreSQL connection pool (pg clients to 127.0.0.1:5432, database `test`) behind the
 * protection chain. Outside CI the spec is skipped with a notice when no server answers; in CI it
 * must run.
 */
const connection = { host: '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), database: 'test', user: process.env.PGUSER ?? 'postgres' };

async function serverAnswers(): Promise<boolean> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const available = await serverAnswers();
if (!available && process.env.CI) throw new Error('PostgreSQL does not answer on 127.0.0.1:5432, and CI must run this spec');
if (!available) console.warn('NOTICE: spec/scenario/postgres.spec.ts skipped: no PostgreSQL answers on 127.0.0.1:5432');

function clientFactory(port = connection.port) {
  return {
    async create(context: { exit(reason?: unknown): void }) {
      const client = new pg.Client({ ...connection, port, connectionTimeoutMillis: 1_000 });
      client.on('error', (error) => context.exit(error));
      client.on('end', () => context.exit('connection ended'));
      await client.connect();
      return client;
    },
    destroy: (client: pg.Client) => client.end(),
  };
}

describe.skipIf(!available)('a PostgreSQL pool protected by the chain', () => {
  let pool: Pool<pg.Client>;
  beforeAll(async () => {
    pool = await createPool({ name: 'pg', size: 2, maxOverflow: 2, worker: clientFactory(), telemetry: createTelemetry() });
  });
  afterAll(async () => {
    await pool?.stop();
  });

  it('runs queries through limiter, breaker and pool', async () => {
    const telemetry = createTelemetry();
    const query = protect(
      {
        name: 'pg-query',
        limiter: createRateLimiter({ name: 'pg', limit: 100, windowMs: 1_000, telemetry }),
        breaker: createBreaker({ name: 'pg', telemetry }),
        pool,
        telemetry,
      },
      async (client) => (await client.query<{ answer: number }>('select 40 + 2 as answer')).rows[0]!.answer,
    );
    const answers = await Promise.all(Array.from({ length: 20 }, () => query()));
    expect(answers).toEqual(new Array(20).fill(42));
    expect(pool.status()).toMatchObject({ checkedOut: 0, waiting: 0 });
  });

  it('replaces a connection the server terminates', async () => {
    const pid = await pool.transaction(async (client) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
    const admin = new pg.Client(connection);
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();
    await expect
      .poll(async () => pool.transaction(async (client) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid), {
        timeout: 5_000,
      })
      .not.toBe(pid);
    const answers = await Promise.all([1, 2, 3].map(() => pool.transaction(async (client) => (await client.query('select 1 as one')).rows[0].one)));
    expect(answers).toEqual([1, 1, 1]);
  });

  it('when the database refuses connections: calls fail with the driver error, the breaker opens, nothing hangs', async () => {
    const telemetry = createTelemetry();
    // Nothing listens on port 1 of the loopback: every connection attempt is refused at once.
    const refusing = await createPool({ name: 'pg-down', size: 0, maxOverflow: 2, checkoutTimeoutMs: 1_000, worker: clientFactory(1), telemetry });
    const breaker = createBreaker({ name: 'pg-down', tolerance: { failures: 2, windowMs: 10_000 }, resetMs: 60_000, telemetry });
    const query = protect({ name: 'pg-down', breaker, pool: refusing, telemetry }, (client: pg.Client) => client.query('select 1'));
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const error = await query().catch((caught: unknown) => caught);
      outcomes.push(`${stageOf(error)}:${(error as { code?: string }).code}`);
    }
    expect(outcomes.slice(0, 3)).toEqual(['call:ECONNREFUSED', 'call:ECONNREFUSED', 'call:ECONNREFUSED']);
    expect(outcomes.slice(3)).toEqual(['breaker:ERR_BREAKER_OPEN', 'breaker:ERR_BREAKER_OPEN']);
    expect(breaker.state()).toBe('open');
    expect(refusing.status()).toMatchObject({ checkedOut: 0, overflow: 0, waiting: 0 });
    await refusing.stop();
  });
});
