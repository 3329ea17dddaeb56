import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeDb, createDb, migrateToLatest } from '@happening/db';
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

/** A folder linking the service's migrations named before `first`: an earlier release's. */
async function migrationsBefore(first: string): Promise<string> {
  const folder = fileURLToPath(MIGRATIONS_FOLDER);
  const earlier = await mkdtemp(path.join(tmpdir(), 'notification-migrations-'));
  for (const file of await readdir(folder)) {
    if (file < first) await symlink(path.join(folder, file), path.join(earlier, file));
  }
  return earlier;
}

/** The index's definition, its schema left out, and whether it is valid. */
async function indexIn(db: Kysely<unknown>, schema: string, name: string) {
  const { rows } = await sql<{ definition: string; valid: boolean }>`
    SELECT replace(pg_get_indexdef(i.indexrelid), ${`${schema}.`}, '') AS definition,
      i.indisvalid AS valid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname = ${name}`.execute(db);
  return rows;
}

describe('notifications_finished_idx', () => {
  it('built CONCURRENTLY beforehand as docs/operations.md says, is the index its migration would build, and is kept', async () => {
    const earlier = await migrationsBefore('20251122001000_finished_notifications_index');
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
