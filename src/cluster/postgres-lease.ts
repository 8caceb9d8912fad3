import { createHash } from 'node:crypto';
import type { Clock } from '../clock/index.js';
import { ConfigError, describeValue } from '../core/index.js';
import { record } from '../core/validate.js';
import { resolveLeaseOptions, type LeaseOptions } from './lease-options.js';
import { fenceOf, type Claim, type LeaseStore } from './lease-store.js';
import { sharedReleaseFeed, type FeedTransport, type ReleaseFeed } from './release-feed.js';
import { createStoreLease, type StoreLease } from './store-lease.js';

/**
 * What a PostgreSQL lease needs of its database client: `query` with `$n` parameters, as a
 * `pg.Pool` (or `pg.Client`) offers it. Each statement runs on its own (autocommit).
 */
export interface PostgresQueryable {
  /** Runs one statement with `$n` parameters and resolves with its rows. */
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/**
 * A connection a PostgreSQL lease can `LISTEN` on, as a `pg.Client` offers it: not yet connected
 * when the lease gets it; the lease connects it, listens, and ends it.
 */
export interface PostgresListenClient {
  /** Opens the connection (called once, by the lease). */
  connect(): Promise<unknown>;
  /** Runs a statement (`LISTEN` / `UNLISTEN`). */
  query(text: string): Promise<unknown>;
  /** Closes the connection (called once, when the last listener goes or it dropped). */
  end(): Promise<unknown>;
  /** `'notification'` (`{ channel, payload }`), `'error'` and `'end'` are used. */
  on(event: string, listener: (...args: any[]) => void): unknown;
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
  /**
   * Where the lease listens for release notices while it has `onReleased` listeners (a singleton
   * child's standby has one), so that a standby tries at once when the holder releases: a
   * function that returns a new, unconnected client (`() => new pg.Client(config)`: LISTEN needs
   * a session of its own, never a pooled one), or `false` for none (standbys then learn of a
   * release at their next try, every `retryMs`). The lease connects the client with the first
   * listener, ends it with the last, and makes a new one after a drop. Default, when `pool` is a
   * `pg.Pool`: a client made as the pool makes its own (`new pool.Client(pool.options)`), outside
   * the pool's count. Leases given the same function (or pool) and `table` share one client.
   * Behind a transaction-mode PgBouncer LISTEN hears nothing: pass a function that connects to the
   * server directly, or `false`.
   */
  listen?: (() => PostgresListenClient) | false;
}

/** The statements of a PostgreSQL lease on one table. */
export interface PostgresLeaseStatements {
  /** Creates the table when absent. */
  readonly create: string;
  /** Takes or renews: `$1` name, `$2` owner, `$3` ttlMs. Returns `held`, `owner`, `fence`. */
  readonly claim: string;
  /** Ends a holding: `$1` name, `$2` owner, `$3` fence; then notifies `$4` (channel) with `$5` (payload). */
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
    // NOTIFY is delivered when the statement commits, so a standby that hears it finds the row free;
    // nothing is sent when there was nothing to end.
    release: `WITH released AS (
  UPDATE ${table} SET expires_at = '-infinity' WHERE name = $1 AND owner = $2 AND fence = $3 RETURNING name
)
SELECT pg_notify($4, $5) FROM released`,
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

/** The longest name sent as it is in a release notice; a longer one is sent as its SHA-256. */
const LONGEST_NOTICE_NAME = 200;

/**
 * The notice a release of `name` sends: the name itself, or `sha256:<hex>` of a long one (a
 * NOTIFY payload must stay under 8000 bytes).
 */
export function releaseNotice(name: string): string {
  return Buffer.byteLength(name) <= LONGEST_NOTICE_NAME ? name : `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

/**
 * The channel the releases of every lease in `table` (as given: `name` or `schema.name`) are
 * notified on: `<table>:released`, or `lease_released:<digest>` when that would pass PostgreSQL's
 * 63 bytes. Leases must name their table the same way to hear each other.
 */
export function releaseChannel(table: string): string {
  const channel = `${table}:released`;
  return Buffer.byteLength(channel) <= 63 ? channel : `lease_released:${createHash('sha256').update(table).digest('hex').slice(0, 40)}`;
}

/** The store of one lease name in one PostgreSQL table; creates the table before its first claim; a release notifies `channel`. */
export function postgresLeaseStore(pool: PostgresQueryable, table: string, name: string, ttlMs: number, channel: string): LeaseStore {
  const notice = releaseNotice(name);
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
      await pool.query(statements.release, [name, owner, fence, channel, notice]);
    },
  };
}

/** Reconnections of a dropped LISTEN client wait from this long, doubling, up to {@link LISTEN_RETRY_MAX_MS}. */
const LISTEN_RETRY_MIN_MS = 100;
const LISTEN_RETRY_MAX_MS = 5000;

/**
 * Listens on `channel` through clients `makeClient()` gives (new, unconnected): connects one,
 * `LISTEN`s, and reports `up`; when it fails or drops, reports `down`, ends it, and makes another
 * after a wait on the clock (from 100 ms, doubling up to 5 s). Closing ends the current client
 * and cancels the wait.
 */
export function postgresReleaseTransport(makeClient: () => PostgresListenClient, channel: string): FeedTransport {
  const listen = `LISTEN "${channel.replaceAll('"', '""')}"`;
  return {
    open(events, clock: Clock) {
      let closed = false;
      let current: PostgresListenClient | undefined;
      let retry: unknown = undefined;
      let attempts = 0;
      const end = (client: PostgresListenClient): void => {
        try {
          client.end().catch(() => undefined);
        } catch {
          // Ending is best effort: the client is given up either way.
        }
      };
      const lost = (client: PostgresListenClient | undefined, error: unknown): void => {
        if (closed || client !== current) return;
        current = undefined;
        if (client !== undefined) end(client);
        events.down(error);
        const wait = Math.min(LISTEN_RETRY_MAX_MS, LISTEN_RETRY_MIN_MS * 2 ** attempts);
        attempts += 1;
        retry = clock.setTimeout(() => {
          retry = undefined;
          connect();
        }, wait);
      };
      const connect = (): void => {
        if (closed) return;
        let client: PostgresListenClient;
        try {
          client = makeClient();
          // Every event of a client is handled from its creation on, also after it is given up: an
          // 'error' nobody listens to would end the process.
          client.on('error', (error: unknown) => lost(client, error));
          client.on('end', () => lost(client, new Error('the LISTEN connection ended')));
          client.on('notification', (message: { channel?: unknown; payload?: unknown }) => {
            if (!closed && client === current && message?.channel === channel && typeof message.payload === 'string') events.message(message.payload);
          });
        } catch (error) {
          current = undefined;
          lost(undefined, error);
          return;
        }
        current = client;
        const givenUp = (): boolean => closed || client !== current;
        Promise.resolve()
          .then(() => client.connect())
          .then(() => (givenUp() ? undefined : client.query(listen)))
          .then(
            () => {
              if (givenUp()) return;
              attempts = 0;
              events.up();
            },
            (error: unknown) => lost(client, error),
          );
      };
      connect();
      return () => {
        closed = true;
        if (retry !== undefined) clock.clearTimeout(retry);
        retry = undefined;
        const client = current;
        current = undefined;
        if (client !== undefined) end(client);
      };
    },
  };
}

/** A `pg.Pool` as far as the default LISTEN client needs it: the constructor and options it makes its clients with. */
interface PoolShape {
  Client: new (options: unknown) => PostgresListenClient;
  options: object;
}

function isPgPool(pool: unknown): pool is PoolShape {
  const candidate = pool as Partial<PoolShape>;
  return typeof candidate.Client === 'function' && typeof candidate.options === 'object' && candidate.options !== null;
}

/** The release feed of a PostgreSQL lease, or `undefined` when it listens to none. */
function postgresReleaseFeed(pool: PostgresQueryable, given: unknown, channel: string): ReleaseFeed | undefined {
  if (given === false) return undefined;
  if (given !== undefined) {
    if (typeof given !== 'function') throw new ConfigError('listen', given, 'a function returning a new pg.Client, or false');
    const makeClient = given as () => PostgresListenClient;
    return sharedReleaseFeed(makeClient, channel, () => postgresReleaseTransport(makeClient, channel));
  }
  if (!isPgPool(pool)) return undefined;
  return sharedReleaseFeed(pool, channel, () => postgresReleaseTransport(() => new pool.Client(pool.options), channel));
}

/**
 * A {@link ClusterLease} kept in a PostgreSQL table (created if absent; concurrent first uses are
 * safe), with all its state in the table's row: name, owner, fence, expires_at. Expiry is decided
 * by the database's `now()` alone, so the machines' clocks never need to agree. A release
 * notifies the table's channel, which standbys listening through `listen` hear at once (see
 * {@link PostgresLeaseOptions.listen}).
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
  const tableName = (fields.table ?? 'overseer_leases') as string;
  const table = quotedTable(tableName);
  const channel = releaseChannel(tableName);
  const feed = postgresReleaseFeed(pool, fields.listen, channel);
  const store = postgresLeaseStore(pool, table, resolved.name, resolved.ttlMs, channel);
  return createStoreLease(store, resolved, feed === undefined ? undefined : { feed, key: releaseNotice(resolved.name) });
}
