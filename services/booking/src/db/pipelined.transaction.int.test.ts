import { type Infra, startInfra, startTcpProxy } from '@happening/testkit';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingDb } from './database.ts';
import { createBookingDb } from './db.factory.ts';
import { CommitOutcomeUnknown, pipelinedTransaction } from './pipelined.transaction.ts';

let infra: Infra;
let db: Kysely<BookingDb>;

const insert = (value: string) =>
  sql<{ value: string }>`INSERT INTO probe (value) VALUES (${value}) RETURNING value`;
const stored = async () =>
  (await sql<{ value: string }>`SELECT value FROM probe ORDER BY value`.execute(db)).rows.map(
    (r) => r.value,
  );

beforeAll(async () => {
  infra = await startInfra();
  // Pool of one: every transaction below reuses the connection the previous one returned.
  db = createBookingDb({ connectionString: infra.postgresUrl, schema: 'pipelined', max: 1 });
  await sql`CREATE SCHEMA IF NOT EXISTS pipelined`.execute(db);
  await sql`CREATE TABLE probe (value text PRIMARY KEY)`.execute(db);
});

afterAll(async () => {
  await db?.destroy();
  await infra?.stop();
});

describe('pipelinedTransaction', () => {
  it('runs the first statement, the ones between and the last in one transaction, then commits', async () => {
    const rows = await pipelinedTransaction(db, async (tx) => {
      const [first] = await tx.first(
        sql<{ xid: string }>`SELECT txid_current()::text AS xid`.compile(tx.db),
      );
      const between = await sql<{ xid: string }>`SELECT txid_current()::text AS xid`.execute(tx.db);
      expect(between.rows[0]?.xid).toBe(first?.xid);
      await insert('a').execute(tx.db);
      return tx.commitWith(insert('b').compile(tx.db));
    });
    expect(rows).toEqual([{ value: 'b' }]);
    expect(await stored()).toEqual(['a', 'b']);
  });

  it('keeps nothing when the last statement fails, and leaves the connection usable', async () => {
    await expect(
      pipelinedTransaction(db, async (tx) => {
        await tx.first(insert('c').compile(tx.db));
        return tx.commitWith(insert('a').compile(tx.db)); // duplicate key
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await stored()).toEqual(['a', 'b']);
    const inTransaction = await sql<{
      open: boolean;
    }>`SELECT now() <> statement_timestamp() AS open`.execute(db);
    expect(inTransaction.rows[0]?.open).toBe(false);
  });

  it('rolls back when the work throws before its last statement', async () => {
    await expect(
      pipelinedTransaction(db, async (tx) => {
        await tx.first(insert('d').compile(tx.db));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    await expect(
      pipelinedTransaction(db, async (tx) => {
        await tx.first(insert('e').compile(tx.db));
        return 'never committed';
      }),
    ).rejects.toThrow('must end with commitWith');
    expect(await stored()).toEqual(['a', 'b']);
  });

  it('rolls back when the first statement fails', async () => {
    await expect(
      pipelinedTransaction(db, async (tx) => {
        await tx.first(sql`SELECT 1 / 0`.compile(tx.db));
        return tx.commitWith(insert('f').compile(tx.db));
      }),
    ).rejects.toMatchObject({ code: '22012' });
    expect(await stored()).toEqual(['a', 'b']);
  });
});

describe('pipelinedTransaction when its work fails after the COMMIT', () => {
  it('says so as an outcome to read back, never as a failed write, and keeps what committed', async () => {
    const failure = new Error('answering failed');
    const attempt = pipelinedTransaction(db, async (tx) => {
      await tx.first(insert('g').compile(tx.db));
      await tx.commitWith(insert('h').compile(tx.db));
      throw failure;
    });
    await expect(attempt).rejects.toBeInstanceOf(CommitOutcomeUnknown);
    await expect(attempt).rejects.toMatchObject({ cause: failure });
    expect(await stored()).toEqual(['a', 'b', 'g', 'h']);
    await sql`DELETE FROM probe WHERE value IN ('g', 'h')`.execute(db);
  });
});

describe('pipelinedTransaction when the connection breaks at COMMIT', () => {
  it('says the outcome is unknown when the COMMIT ran but its answer was lost', async () => {
    const proxy = await startTcpProxy(infra.postgresUrl);
    const behind = createBookingDb({ connectionString: proxy.url, schema: 'pipelined', max: 1 });
    try {
      // The connection drops as Postgres answers the COMMIT, which it has carried out.
      proxy.loseNextAnswer('lost-answer', 'COMMIT');
      const outcome = pipelinedTransaction(behind, async (tx) => {
        await tx.first(insert('g').compile(tx.db));
        return tx.commitWith(insert('lost-answer').compile(tx.db));
      });
      await expect(outcome).rejects.toBeInstanceOf(CommitOutcomeUnknown);
      expect(await stored()).toContain('lost-answer');
    } finally {
      await behind.destroy();
      await proxy.close();
    }
  });

  it('still reports a refused write as its error, the COMMIT having rolled back', async () => {
    const proxy = await startTcpProxy(infra.postgresUrl);
    const behind = createBookingDb({ connectionString: proxy.url, schema: 'pipelined', max: 1 });
    try {
      const outcome = pipelinedTransaction(behind, async (tx) => {
        await tx.first(insert('h').compile(tx.db));
        return tx.commitWith(insert('a').compile(tx.db)); // duplicate key
      });
      await expect(outcome).rejects.toMatchObject({ code: '23505' });
      expect(await stored()).not.toContain('h');
    } finally {
      await behind.destroy();
      await proxy.close();
    }
  });
});

describe('the booking pool', () => {
  it('reads a repeated timestamptz as equal Dates of their own, and infinity as pg does', async () => {
    const read = () =>
      sql<{ a: Date; b: Date; c: Date; forever: number }>`
        SELECT '2026-11-22 10:00:00.123456+00'::timestamptz AS a,
               '2026-11-22 10:00:00.123456+00'::timestamptz AS b,
               '2026-11-22 11:30:00+02'::timestamptz AS c,
               'infinity'::timestamptz AS forever`.execute(db);
    for (const { rows } of [await read(), await read()]) {
      const [row] = rows;
      expect(row?.a.toISOString()).toBe('2026-11-22T10:00:00.123Z');
      expect(row?.b).toEqual(row?.a);
      expect(row?.b).not.toBe(row?.a);
      expect(row?.c.toISOString()).toBe('2026-11-22T09:30:00.000Z');
      expect(row?.forever).toBe(Number.POSITIVE_INFINITY);
    }
  });
});

describe('pipelinedTransaction when its last statement fails before reaching Postgres', () => {
  it('says the outcome is unknown: the COMMIT sent behind it kept the rest', async () => {
    await sql`TRUNCATE probe`.execute(db);
    // A parameter pg cannot serialise: the statement fails in the client, never sent.
    const unserialisable = {
      toPostgres() {
        throw new Error('not serialisable');
      },
    };
    const outcome = pipelinedTransaction(db, async (tx) => {
      await tx.first(insert('kept').compile(tx.db));
      return tx.commitWith(
        sql`INSERT INTO probe (value) VALUES (${unserialisable})`.compile(tx.db),
      );
    });
    await expect(outcome).rejects.toBeInstanceOf(CommitOutcomeUnknown);
    // What ran before it committed: a caller told the write failed would have given back seats
    // (or left Idempotency-Keys answered) for a transaction that committed.
    expect(await stored()).toEqual(['kept']);
  });
});
