import { rm } from 'node:fs/promises';
import { closeDb, createDb, migrateToLatest } from '@happening/db';
import { indexIn, migrationsBefore } from '@happening/db/testing';
import { type Infra, startInfra } from '@happening/testkit';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_SCHEMA, MIGRATIONS_FOLDER } from '../src/schema.ts';

let infra: Infra;
const opened: Kysely<unknown>[] = [];

beforeAll(async () => {
  infra = await startInfra();
});

afterAll(async () => {
  await Promise.all(opened.map((db) => closeDb(db)));
  await infra?.stop();
});

function open(schema: string): Kysely<unknown> {
  const db = createDb<unknown>({ connectionString: infra.postgresUrl, schema, max: 2 });
  opened.push(db);
  return db;
}

describe('notifications_finished_idx', () => {
  it('built CONCURRENTLY beforehand as docs/operations.md says, is the index its migration would build, and is kept', async () => {
    const earlier = await migrationsBefore(
      MIGRATIONS_FOLDER,
      '20251122001000_finished_notifications_index',
    );
    const db = open(DB_SCHEMA);
    try {
      // A long-running installation on the release before.
      await migrateToLatest({ db, schema: DB_SCHEMA, migrationsFolder: earlier });
    } finally {
      await rm(earlier, { recursive: true });
    }
    expect(await indexIn(db, DB_SCHEMA, 'notifications_finished_idx')).toEqual([]);
    await sql`
      CREATE INDEX CONCURRENTLY notifications_finished_idx ON notification.notifications
      (updated_at) WHERE status <> 'pending'`.execute(db);

    await migrateToLatest({ db, schema: DB_SCHEMA, migrationsFolder: MIGRATIONS_FOLDER });

    const fresh = open('notification_fresh');
    await migrateToLatest({
      db: fresh,
      schema: 'notification_fresh',
      migrationsFolder: MIGRATIONS_FOLDER,
    });
    const built = await indexIn(fresh, 'notification_fresh', 'notifications_finished_idx');
    expect(built).toEqual([{ definition: expect.stringContaining('(updated_at)'), valid: true }]);
    expect(await indexIn(db, DB_SCHEMA, 'notifications_finished_idx')).toEqual(built);
  });
});

describe('event ends for the projections’ retention', () => {
  it('are filled in from the versions known: every row and holder its event’s latest', async () => {
    const schema = 'notification_ends';
    const earlier = await migrationsBefore(
      MIGRATIONS_FOLDER,
      '20251123000200_event_projection_ends',
    );
    const db = open(schema);
    try {
      await migrateToLatest({ db, schema, migrationsFolder: earlier });
    } finally {
      await rm(earlier, { recursive: true });
    }
    const [told, untold] = [
      '6f1c2a4e-0d8b-4c4e-9a55-6a1f0d2b7c11',
      '0b8e1f37-5c2d-4e1a-8f3b-2d9c7a6e4f10',
    ];
    const details = (endsAt: string) => JSON.stringify({ endsAt });
    await sql`
      INSERT INTO event_versions (event_id, catalog_version, details) VALUES
        (${told}, 2, ${details('2026-02-10T18:00:00.000Z')}),
        (${told}, 3, ${details('2026-01-10T18:00:00.000Z')})`.execute(db);
    await sql`
      INSERT INTO event_holders (booking_id, event_id, org_id, user_id, status, booking_version)
      VALUES
        (gen_random_uuid(), ${told}, gen_random_uuid(), 'u-1', 'confirmed', 1),
        (gen_random_uuid(), ${untold}, gen_random_uuid(), 'u-2', 'confirmed', 1)`.execute(db);

    await migrateToLatest({ db, schema, migrationsFolder: MIGRATIONS_FOLDER });

    const latest = new Date('2026-02-10T18:00:00.000Z');
    const versions = await sql<{ catalog_version: number; event_ends_at: Date }>`
      SELECT catalog_version, event_ends_at FROM event_versions ORDER BY catalog_version`.execute(
      db,
    );
    expect(versions.rows).toEqual([
      { catalog_version: 2, event_ends_at: latest },
      { catalog_version: 3, event_ends_at: latest },
    ]);
    const holders = await sql<{ event_id: string; event_ends_at: Date | null }>`
      SELECT event_id, event_ends_at FROM event_holders ORDER BY user_id`.execute(db);
    expect(holders.rows).toEqual([
      { event_id: told, event_ends_at: latest },
      { event_id: untold, event_ends_at: null },
    ]);
  });
});

describe('event_holders_person_idx', () => {
  it('serves the look-up of a person’s booking of an event, and built CONCURRENTLY beforehand is kept', async () => {
    const schema = 'notification_person';
    const earlier = await migrationsBefore(
      MIGRATIONS_FOLDER,
      '20251127000000_event_holders_person_index',
    );
    const db = open(schema);
    try {
      await migrateToLatest({ db, schema, migrationsFolder: earlier });
    } finally {
      await rm(earlier, { recursive: true });
    }
    await sql`
      CREATE INDEX CONCURRENTLY event_holders_person_idx ON notification_person.event_holders
      (event_id, user_id) WHERE status IN ('confirmed', 'waiting')`.execute(db);
    await migrateToLatest({ db, schema, migrationsFolder: MIGRATIONS_FOLDER });
    const fresh = open('notification_person_fresh');
    await migrateToLatest({
      db: fresh,
      schema: 'notification_person_fresh',
      migrationsFolder: MIGRATIONS_FOLDER,
    });
    const built = await indexIn(fresh, 'notification_person_fresh', 'event_holders_person_idx');
    expect(built).toEqual([
      { definition: expect.stringContaining('(event_id, user_id)'), valid: true },
    ]);
    expect(await indexIn(db, schema, 'event_holders_person_idx')).toEqual(built);

    // The shape of `holdsBooking`, planned as on a big table (no sequential scan on a small one).
    const plan = await fresh.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      const { rows } = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT booking_id FROM event_holders
        WHERE event_id = gen_random_uuid() AND user_id = 'u-1'
          AND status IN ('confirmed', 'waiting') LIMIT 1`.execute(trx);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('event_holders_person_idx');
  });
});
