import { ConfigError, describeValue } from '../core/index.js';
import { record } from '../core/validate.js';
import { resolveLeaseOptions, type LeaseOptions } from './lease-options.js';
import { fenceOf, type Claim, type LeaseStore } from './lease-store.js';
import { createStoreLease, type StoreLease } from './store-lease.js';

/**
 * What a PostgreSQL lease needs of its database client: `query` with `$n` parameters, as a
 * `pg.Pool` (or `pg.Client`) offers it. Each statement runs on its own (autocommit).
 */
export interface PostgresQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** Options of {@link createPostgresLease}. */
export interface PostgresLeaseOptions extends LeaseOptions {
  /** Where the statements run: a `pg.Pool` or anything with its `query`. Required. */
  pool: PostgresQueryable;
  /**
   * The table that keeps every lease's state, created when absent: an identifier (letters, digits,
   * `_`, `$`; up to 63 characters), optionally schema-qualified (`schema.table`); quoted, so its
   * case is kept. Default `'overseer_leases'`.
   */
  table?: string;
}

/** The statements of a PostgreSQL lease on one table. */
export interface PostgresLeaseStatements {
  /** Creates the table when absent. */
  readonly create: string;
  /** Takes or renews: `$1` name, `$2` owner, `$3` ttlMs. Returns `held`, `owner`, `fence`. */
  readonly claim: string;
  /** Ends a holding: `$1` name, `$2` owner, `$3` fence. */
  readonly release: string;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** The table name, quoted (`"schema"."table"`), or a {@link ConfigError}. */
export function quotedTable(table: unknown): string {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length === 0 || parts.length > 2 || !parts.every((part) => identifier.test(part))) {
    throw new ConfigError('table', table, "a table name ('name' or 'schema.name': letters, digits, _ and $, up to 63 each, not starting with a digit)");
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/**
 * The statements, for a quoted table name. One row per lease name; the row is never deleted, so
 * the fence only grows: a release sets `expires_at` to `-infinity`.
 *
 * The claim is one statement, an UPSERT whose condition is "expired by the database's `now()`,
 * or mine": a takeover (new row, or an expired one, whoever held it) gets `fence + 1`; the
 * holder's own renewal keeps its fence; the time is only ever the database's. When the condition
 * fails, nothing is written (no new row version per standby poll) and the holder is read back in
 * the same statement. No advisory lock: nothing depends on the session, so it works behind a
 * transaction-mode PgBouncer and on any pooled connection.
 */
export function postgresLeaseStatements(table: string): PostgresLeaseStatements {
  return Object.freeze({
    create: `CREATE TABLE IF NOT EXISTS ${table} (
  name text PRIMARY KEY,
  owner text NOT NULL,
  fence bigint NOT NULL,
  expires_at timestamptz NOT NULL
)`,
    claim: `WITH claimed AS (
  INSERT INTO ${table} AS lease (name, owner, fence, expires_at)
  VALUES ($1, $2, 1, now() + $3::double precision * interval '1 millisecond')
  ON CONFLICT (name) DO UPDATE
    SET owner = excluded.owner,
        fence = CASE WHEN lease.owner = excluded.owner AND lease.expires_at > now() THEN lease.fence ELSE lease.fence + 1 END,
        expires_at = excluded.expires_at
    WHERE lease.owner = excluded.owner OR lease.expires_at <= now()
  RETURNING owner, fence
)
SELECT true AS held, owner, fence FROM claimed
UNION ALL
SELECT false AS held, owner, fence FROM ${table} WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`,
    release: `UPDATE ${table} SET expires_at = '-infinity' WHERE name = $1 AND owner = $2 AND fence = $3`,
  });
}

/** SQLSTATEs of a `CREATE TABLE IF NOT EXISTS` that lost a race to a concurrent one: the table is there. */
const createRaceCodes = new Set(['23505' /* unique_violation (pg_type) */, '42P07' /* duplicate_table */]);

function sqlState(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** The claim's rows as a {@link Claim}; throws on a reply of another shape. */
function claimOf(rows: unknown): Claim {
  if (!Array.isArray(rows)) throw new TypeError(`unexpected reply to the lease claim: ${describeValue(rows)}`);
  const row = rows[0] as { held?: unknown; owner?: unknown; fence?: unknown } | undefined;
  if (row === undefined) return { held: false, holder: undefined };
  const fence = fenceOf(row.fence);
  if (row.held === true && fence !== undefined) return { held: true, fence };
  if (row.held === false && typeof row.owner === 'string') return { held: false, holder: row.owner };
  throw new TypeError(`unexpected reply to the lease claim: ${describeValue(row)}`);
}

/** The store of one lease name in one PostgreSQL table; creates the table before its first claim. */
export function postgresLeaseStore(pool: PostgresQueryable, table: string, name: string, ttlMs: number): LeaseStore {
  const statements = postgresLeaseStatements(table);
  let created: Promise<void> | undefined;
  const ensureTable = (): Promise<void> => {
    created ??= pool.query(statements.create).then(
      () => undefined,
      (error: unknown) => {
        if (createRaceCodes.has(sqlState(error) as string)) return;
        created = undefined;
        throw error;
      },
    );
    return created;
  };
  return {
    async claim(owner) {
      await ensureTable();
      const result = await pool.query(statements.claim, [name, owner, ttlMs]);
      return claimOf(result?.rows);
    },
    async release(owner, fence) {
      await ensureTable();
      await pool.query(statements.release, [name, owner, fence]);
    },
  };
}

/**
 * A {@link ClusterLease} kept in a PostgreSQL table (created if absent; concurrent first uses are
 * safe), with all its state in the table's row: name, owner, fence, expires_at. Expiry is decided
 * by the database's `now()` alone, so the machines' clocks never need to agree.
 *
 * @example
 * ```ts
 * const lease = createPostgresLease({ name: 'nightly-report', pool: new pg.Pool(), ttlMs: 15_000 });
 * await startSupervisor({ children: [singletonChild({ id: 'report', lease, start: ({ fence }) => reporter(fence) })] });
 * ```
 */
export function createPostgresLease(options: PostgresLeaseOptions): StoreLease {
  const resolved = resolveLeaseOptions(options);
  const fields = options as unknown as Record<string, unknown>;
  const pool = record('pool', fields.pool) as unknown as PostgresQueryable;
  if (typeof pool.query !== 'function') throw new ConfigError('pool.query', pool.query, 'a function (a pg.Pool or anything with its query)');
  const table = quotedTable(fields.table ?? 'overseer_leases');
  return createStoreLease(postgresLeaseStore(pool, table, resolved.name, resolved.ttlMs), resolved);
}
