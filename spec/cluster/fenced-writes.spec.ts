import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, postgresPool, randomTable } from '../support/cluster-stores.js';
import { fencedWriteStatements, loggedWrites } from './service/fenced-writes.js';

/**
 * The fenced write the multi-process scenario relies on, against the real PostgreSQL at
 * DATABASE_URL under its default isolation (READ COMMITTED): two sessions of this file's own, one
 * holding a transaction open, so the race is forced rather than hoped for. The tables are this
 * file's own and dropped after.
 */
describe.runIf(postgresAvailable)('fenced writes (PostgreSQL, READ COMMITTED)', () => {
  const log = randomTable('fwlog');
  const mark = randomTable('fwmark');
  const statements = fencedWriteStatements(log, mark);
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = postgresPool({ max: 4 });
    for (const statement of statements.create) await pool.query(statement);
  });

  afterAll(async () => {
    for (const statement of statements.drop) await pool.query(statement);
    const left = await pool.query('SELECT to_regclass($1) AS log, to_regclass($2) AS mark', [log, mark]);
    expect(left.rows).toEqual([{ log: null, mark: null }]);
    await pool.end();
  });

  it('a write of a lower fence that raced an uncommitted higher one is refused once that one commits, and the log stays in fence order', async () => {
    const higher = await pool.connect();
    const lower = await pool.connect();
    try {
      expect((await pool.query(statements.write, [1, 'old'])).rows).toHaveLength(1);
      await higher.query('BEGIN');
      expect((await higher.query(statements.write, [3, 'new'])).rows).toHaveLength(1);
      // Started while fence 3 is not committed: it waits for the mark row's lock...
      const raced = lower.query(statements.write, [2, 'old']);
      const settledEarly = await Promise.race([raced.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 200))]);
      expect(settledEarly).toBe(false);
      await higher.query('COMMIT');
      // ...and is then judged against the committed fence 3: refused, not slipped in behind it.
      expect((await raced).rows).toEqual([]);
      expect((await pool.query(statements.write, [3, 'new'])).rows).toHaveLength(1);
      const rows = loggedWrites((await pool.query(statements.log)).rows);
      expect(rows.map((row) => [row.fence, row.instance])).toEqual([
        [1, 'old'],
        [3, 'new'],
        [3, 'new'],
      ]);
      expect(rows.every((row, index) => index === 0 || row.atMs >= rows[index - 1]!.atMs)).toBe(true);
    } finally {
      await higher.query('ROLLBACK').catch(() => undefined);
      higher.release();
      lower.release();
    }
  });

  it('concurrent writers of interleaved fences through several connections leave a log whose fences never go down', async () => {
    await pool.query(`TRUNCATE ${log}`);
    await pool.query(`UPDATE ${mark} SET fence = 0`);
    const writers = Array.from({ length: 4 }, (_, writer) =>
      (async () => {
        let accepted = 0;
        for (let step = 0; step < 40; step += 1) {
          // Fences climb, each writer lagging a different amount behind: many writes are stale.
          const fence = Math.max(1, step - writer * 3);
          accepted += (await pool.query(statements.write, [fence, `w${writer}`])).rows.length;
        }
        return accepted;
      })(),
    );
    const accepted = (await Promise.all(writers)).reduce((sum, count) => sum + count, 0);
    const rows = loggedWrites((await pool.query(statements.log)).rows);
    expect(rows).toHaveLength(accepted);
    expect(rows.every((row, index) => index === 0 || row.fence >= rows[index - 1]!.fence)).toBe(true);
  });
});
