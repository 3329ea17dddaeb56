import { deferred, eventually, startPostgres } from '@happening/testkit';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDb,
  DEFAULT_RETENTION,
  enqueueOutbox,
  handleOnce,
  IdempotencyKeyError,
  prunePlatformTables,
  runIdempotently,
  withIdempotencyKey,
  withTransaction,
} from '../src/index.ts';
import { migratedDb, type TestTables } from './support.ts';

let postgres: Awaited<ReturnType<typeof startPostgres>>;
let db: Kysely<TestTables>;

beforeAll(async () => {
  postgres = await startPostgres();
  db = await migratedDb(postgres.url, 'svc_inbox', 12);
});

afterAll(async () => {
  if (db) await closeDb(db);
  await postgres?.stop();
});

describe('handleOnce', () => {
  it('runs the work once per message id', async () => {
    const entry = { consumer: 'c', messageId: 'm-1' };
    const work = (trx: Parameters<Parameters<typeof handleOnce<TestTables>>[2]>[0]) =>
      trx
        .insertInto('widgets')
        .values({ id: 1, name: 'once' })
        .execute()
        .then(() => undefined);
    expect(await handleOnce(db, entry, work)).toBe(true);
    expect(await handleOnce(db, entry, work)).toBe(false);
    expect(
      await handleOnce(db, { consumer: 'other', messageId: 'm-1' }, async () => undefined),
    ).toBe(true);
  });

  it('runs the work once when the same message is handled concurrently', async () => {
    let runs = 0;
    // The first handler's transaction stays open until every duplicate waits on its inbox row.
    const gate = deferred();
    const calls = Array.from({ length: 8 }, () =>
      handleOnce(db, { consumer: 'c', messageId: 'm-concurrent' }, async () => {
        runs++;
        await gate.promise;
      }),
    );
    const waitingOnInbox = async () => {
      const { rows } = await sql<{ waiting: number }>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE 'insert into "inbox"%'`.execute(db);
      return rows[0]?.waiting ?? 0;
    };
    await eventually(async () => runs > 1 || (await waitingOnInbox()) === 7, {
      what: 'the duplicates to wait on the inbox row',
    });
    gate.resolve();
    const results = await Promise.all(calls);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
  });

  it('forgets the message id when the work fails', async () => {
    const entry = { consumer: 'c', messageId: 'm-fails' };
    await expect(
      handleOnce(db, entry, async (trx) => {
        await trx.insertInto('widgets').values({ id: 2, name: 'rolled back' }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.selectFrom('widgets').where('id', '=', 2).selectAll().execute()).toEqual([]);
    expect(await handleOnce(db, entry, async () => undefined)).toBe(true);
  });
});

describe('withIdempotencyKey', () => {
  const scope = 'POST /things';

  it('replays the stored response for the same key and request', async () => {
    let runs = 0;
    const fn = async () => ({ statusCode: 201, body: { id: ++runs } });
    const first = await withIdempotencyKey(db, { scope, key: 'k1', fingerprint: 'f' }, fn);
    const second = await withIdempotencyKey(db, { scope, key: 'k1', fingerprint: 'f' }, fn);
    expect(first).toEqual({ statusCode: 201, body: { id: 1 } });
    expect(second).toEqual({ ...first, replayed: true });
    expect(runs).toBe(1);
  });

  it('rejects the same key with a different request (422)', async () => {
    await withIdempotencyKey(db, { scope, key: 'k2', fingerprint: 'a' }, async () => ({
      statusCode: 200,
      body: 'a',
    }));
    const error = await withIdempotencyKey(
      db,
      { scope, key: 'k2', fingerprint: 'b' },
      async () => ({
        statusCode: 200,
        body: 'b',
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyKeyError);
    expect(error).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      status: 422,
      name: 'DomainError',
    });
  });

  it('never runs concurrent identical requests twice', async () => {
    let runs = 0;
    let settled = 0;
    // The work stays in progress until every other request has had its answer.
    const gate = deferred();
    const calls = Array.from({ length: 6 }, () =>
      withIdempotencyKey(db, { scope, key: 'k3', fingerprint: 'f' }, async () => {
        runs++;
        await gate.promise;
        return { statusCode: 201, body: 'made' };
      }),
    );
    // Handles every outcome at once, so the early 409s are never unhandled rejections.
    for (const call of calls) {
      call.then(
        () => settled++,
        () => settled++,
      );
    }
    await eventually(() => settled === 5 || runs > 1, {
      what: 'the duplicates to be answered',
    });
    gate.resolve();
    const outcomes = await Promise.allSettled(calls);
    expect(runs).toBe(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled')
        expect(outcome.value).toEqual({ statusCode: 201, body: 'made' });
      else
        expect(outcome.reason).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_PROGRESS', status: 409 });
    }
  });

  it('lets the client retry after the work failed', async () => {
    await expect(
      withIdempotencyKey(db, { scope, key: 'k4', fingerprint: 'f' }, async () => {
        throw new Error('downstream down');
      }),
    ).rejects.toThrow('downstream down');
    const retried = await withIdempotencyKey(
      db,
      { scope, key: 'k4', fingerprint: 'f' },
      async () => ({
        statusCode: 201,
        body: null,
      }),
    );
    expect(retried).toEqual({ statusCode: 201, body: null });
  });

  it('claims a key released between its claim attempt and its read, instead of failing', async () => {
    // Another request holds the key (pending, not stale); right after our claim attempt lost to
    // it, that request's work fails and releases the key (the trigger deletes it in that gap).
    await db
      .insertInto('idempotency_keys')
      .values({
        scope,
        key: 'k6',
        fingerprint: 'f',
        status: 'pending',
        status_code: null,
        body: null,
        created_at: new Date('1999-01-01T00:00:00Z'),
      })
      .execute();
    await sql`
      CREATE FUNCTION release_k6() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM idempotency_keys WHERE key = 'k6' AND created_at < '2000-01-01';
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE TRIGGER release_k6 AFTER INSERT ON idempotency_keys
      FOR EACH STATEMENT EXECUTE FUNCTION release_k6()`.execute(db);
    try {
      const result = await withIdempotencyKey(
        db,
        { scope, key: 'k6', fingerprint: 'f' },
        async () => ({ statusCode: 201, body: 'mine' }),
      );
      expect(result).toEqual({ statusCode: 201, body: 'mine' });
    } finally {
      await sql`DROP TRIGGER release_k6 ON idempotency_keys`.execute(db);
      await sql`DROP FUNCTION release_k6()`.execute(db);
    }
    const stored = await db
      .selectFrom('idempotency_keys')
      .select(['status', 'body'])
      .where('key', '=', 'k6')
      .execute();
    expect(stored).toEqual([{ status: 'completed', body: 'mine' }]);
  });

  it('stores the answer of work whose claim was taken away meanwhile', async () => {
    const result = await withIdempotencyKey(
      db,
      { scope, key: 'k7', fingerprint: 'f' },
      async (keep) => {
        // A retry took the claim over as stale, failed, and released it while this work ran.
        await db.deleteFrom('idempotency_keys').where('key', '=', 'k7').execute();
        const response = { statusCode: 201, body: 'done once' };
        await keep(db, response);
        return response;
      },
    );
    const replay = await withIdempotencyKey(
      db,
      { scope, key: 'k7', fingerprint: 'f' },
      async () => ({ statusCode: 201, body: 'done twice' }),
    );
    expect(replay).toEqual({ ...result, replayed: true });
  });

  it('takes over a pending key left by a crashed request', async () => {
    await db
      .insertInto('idempotency_keys')
      .values({
        scope,
        key: 'k5',
        fingerprint: 'f',
        status: 'pending',
        status_code: null,
        body: null,
        updated_at: new Date(Date.now() - 120_000),
      })
      .execute();
    const result = await withIdempotencyKey(
      db,
      { scope, key: 'k5', fingerprint: 'f' },
      async () => ({
        statusCode: 200,
        body: 'recovered',
      }),
    );
    expect(result.body).toBe('recovered');
  });
});

describe('runIdempotently', () => {
  const request = (key: string | undefined, over: Partial<Record<string, unknown>> = {}) => ({
    key,
    route: 'POST /v1/things/:id',
    callerId: 'ada',
    params: { id: '1' },
    body: { n: 1 },
    ...over,
  });

  it('runs every time without a key, once per key, caller and request with one', async () => {
    let runs = 0;
    const fn = async () => ({ statusCode: 201, body: { run: ++runs } });
    await runIdempotently(db, request(undefined), fn);
    await runIdempotently(db, request(undefined), fn);
    expect(runs).toBe(2);
    const first = await runIdempotently(db, request('r-1'), fn);
    expect(await runIdempotently(db, request('r-1'), fn)).toEqual({ ...first, replayed: true });
    expect(runs).toBe(3);
    // another caller's identical key is theirs alone
    await runIdempotently(db, request('r-1', { callerId: 'bob' }), fn);
    expect(runs).toBe(4);
  });

  it('refuses the key reused for other path parameters or another body', async () => {
    const fn = async () => ({ statusCode: 201, body: {} });
    await runIdempotently(db, request('r-2'), fn);
    for (const changed of [{ params: { id: '2' } }, { body: { n: 2 } }]) {
      const error = await runIdempotently(db, request('r-2', changed), fn).catch((e) => e);
      expect(error).toBeInstanceOf(IdempotencyKeyError);
      expect(error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
  });
});

describe('prunePlatformTables', () => {
  it('deletes published outbox rows, inbox entries and idempotency keys past their retention, nothing else', async () => {
    const hour = 3_600_000;
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms);
    await withTransaction(db, (trx) =>
      enqueueOutbox(
        trx,
        ['published-long-ago', 'published-recently', 'never-published'].map((id) => ({
          messageId: id,
          routingKey: 'x.y',
          payload: {},
        })),
      ),
    );
    await db
      .updateTable('outbox')
      .set({ published_at: ago(48 * hour), created_at: ago(48 * hour) })
      .where('message_id', 'in', ['published-long-ago', 'never-published'])
      .execute();
    await db
      .updateTable('outbox')
      .set({ published_at: null })
      .where('message_id', '=', 'never-published')
      .execute();
    await db
      .updateTable('outbox')
      .set({ published_at: ago(hour) })
      .where('message_id', '=', 'published-recently')
      .execute();
    await db
      .insertInto('inbox')
      .values([
        { consumer: 'prune-test', message_id: 'handled-long-ago', handled_at: ago(8 * 24 * hour) },
        { consumer: 'prune-test', message_id: 'handled-recently', handled_at: ago(hour) },
      ])
      .execute();
    await db
      .insertInto('idempotency_keys')
      .values(
        [
          ['key-long-ago', ago(25 * hour)],
          ['key-recent', ago(hour)],
        ].map(([key, at]) => ({
          scope: 'prune-test',
          key: key as string,
          fingerprint: 'f',
          status: 'completed' as const,
          status_code: 201,
          body: JSON.stringify({}),
          created_at: at as Date,
        })),
      )
      .execute();

    expect(await prunePlatformTables(db, DEFAULT_RETENTION, now)).toEqual({
      outbox: 1,
      inbox: 1,
      idempotencyKeys: 1,
    });
    const outbox = await db
      .selectFrom('outbox')
      .select('message_id')
      .where('message_id', 'in', ['published-long-ago', 'published-recently', 'never-published'])
      .orderBy('message_id')
      .execute();
    expect(outbox.map((row) => row.message_id)).toEqual(['never-published', 'published-recently']);
    const inbox = await db
      .selectFrom('inbox')
      .select('message_id')
      .where('consumer', '=', 'prune-test')
      .execute();
    expect(inbox.map((row) => row.message_id)).toEqual(['handled-recently']);
    const keys = await db
      .selectFrom('idempotency_keys')
      .select('key')
      .where('scope', '=', 'prune-test')
      .execute();
    expect(keys.map((row) => row.key)).toEqual(['key-recent']);
  });
});
