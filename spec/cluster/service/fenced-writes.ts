/**
 * The fenced writes of the multi-process scenario: a log table every write goes into, and a
 * one-row high-water mark that decides which writes the log takes.
 *
 * The write is one statement: an UPDATE of the mark row to the write's fence `WHERE fence <= $1`,
 * and an INSERT into the log of the row the UPDATE returned. It is atomic under READ COMMITTED:
 * the UPDATE locks the mark row, a concurrent write waits for that lock, and when the first commits
 * PostgreSQL evaluates the waiter's `fence <= $1` again against the committed row (EvalPlanQual),
 * so a write of a lower fence that raced a higher one is refused, never slipped in behind it. The
 * log's `seq` and `at` (`clock_timestamp()`, read after the lock is taken) are therefore in commit
 * order. (`INSERT … WHERE $1 >= (SELECT max(fence) FROM log)` is not atomic: two writers each read
 * the max from their own snapshot, and both insert.)
 */

/** A table name of the scenario: letters, digits and `_` only (it is spliced into SQL). */
export function checkedTable(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain table name: ${name}`);
  return name;
}

/** The statements on a log table and its mark table. */
export function fencedWriteStatements(log: string, mark: string) {
  const logTable = checkedTable(log);
  const markTable = checkedTable(mark);
  return {
    create: [
      `CREATE TABLE ${markTable} (id int PRIMARY KEY, fence bigint NOT NULL)`,
      `INSERT INTO ${markTable} (id, fence) VALUES (1, 0)`,
      `CREATE TABLE ${logTable} (seq bigserial PRIMARY KEY, fence bigint NOT NULL, instance text NOT NULL, at timestamptz NOT NULL)`,
    ],
    /** `$1` fence, `$2` instance: one row (`seq`, `at_ms`) when taken, none when refused. */
    write: `WITH mark AS (
  UPDATE ${markTable} SET fence = $1::bigint WHERE id = 1 AND fence <= $1::bigint RETURNING fence
)
INSERT INTO ${logTable} (fence, instance, at)
SELECT mark.fence, $2::text, clock_timestamp() FROM mark
RETURNING seq, extract(epoch FROM at) * 1000 AS at_ms`,
    /**
     * The log in commit order. Fences are bigint (a Redis lease seeds its counter from Redis's clock
     * in ms): node-postgres hands them over as strings, {@link loggedWrites} reads them as numbers.
     */
    log: `SELECT seq::int AS seq, fence, instance, extract(epoch FROM at) * 1000 AS at_ms FROM ${logTable} ORDER BY seq`,
    drop: [`DROP TABLE IF EXISTS ${logTable}`, `DROP TABLE IF EXISTS ${markTable}`],
  };
}

/** One row of the log, in commit order. */
export interface LoggedWrite {
  readonly seq: number;
  readonly fence: number;
  readonly instance: string;
  /** The database's `clock_timestamp()` at the write, in ms since the epoch. */
  readonly atMs: number;
}

/** The log's rows as {@link LoggedWrite}s. */
export function loggedWrites(rows: Array<{ seq: number; fence: number | string; instance: string; at_ms: string | number }>): LoggedWrite[] {
  // Fences stay below 2^53 (ms since the epoch plus takeovers): exact as numbers.
  return rows.map((row) => ({ seq: row.seq, fence: Number(row.fence), instance: row.instance, atMs: Number(row.at_ms) }));
}
