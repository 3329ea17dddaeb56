import { startPostgres } from '@happening/testkit';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, createDb, databaseReadiness, migrateToLatest } from '../src/index.ts';
import { platformMigrations } from '../src/platform.migrations.ts';
import { fixtureMigrations, migratedDb, type TestTables } from './support.ts';

let postgres: Awaited<ReturnType<typeof startPostgres>>;
const opened: Kysely<TestTables>[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await Promise.all(opened.map((db) => closeDb(db)));
  await postgres?.stop();
});

function open(schema: string): Kysely<TestTables> {
  const db = createDb<TestTables>({ connectionString: postgres.url, schema, max: 3 });
  opened.push(db);
  return db;
}

async function tablesOf(db: Kysely<TestTables>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${schema} ORDER BY 1`.execute(
    db,
  );
  return rows.map((row) => row.name);
}

describe('migrateToLatest', () => {
  it('creates the schema with platform and service tables, each migration log inside it', async () => {
    const db = open('svc_one');
    await migrateToLatest({ db, schema: 'svc_one', migrationsFolder: fixtureMigrations });
    expect(await tablesOf(db, 'svc_one')).toEqual([
      'idempotency_keys',
      'inbox',
      'kysely_migration',
      'kysely_migration_lock',
      'outbox',
      'platform_migration',
      'platform_migration_lock',
      'widgets',
    ]);
    expect(await tablesOf(db, 'public')).toEqual([]);
  });

  it('is a no-op the second time', async () => {
    const db = open('svc_twice');
    await migrateToLatest({ db, schema: 'svc_twice', migrationsFolder: fixtureMigrations });
    await db.insertInto('widgets').values({ id: 1, name: 'kept' }).execute();
    await migrateToLatest({ db, schema: 'svc_twice', migrationsFolder: fixtureMigrations });
    const applied = await db
      .selectFrom('kysely_migration' as never)
      .selectAll()
      .execute();
    expect(applied).toHaveLength(1);
    expect(await db.selectFrom('widgets').select('name').execute()).toEqual([{ name: 'kept' }]);
  });

  it('is safe when replicas start at the same time', async () => {
    const replicas = [open('svc_race'), open('svc_race'), open('svc_race'), open('svc_race')];
    await Promise.all(
      replicas.map((db) =>
        migrateToLatest({ db, schema: 'svc_race', migrationsFolder: fixtureMigrations }),
      ),
    );
    const [db] = replicas as [Kysely<TestTables>];
    expect(
      await db
        .selectFrom('platform_migration' as never)
        .selectAll()
        .execute(),
      // each platform migration once, however many replicas ran them
    ).toHaveLength(Object.keys(platformMigrations).length);
    expect(
      await db
        .selectFrom('kysely_migration' as never)
        .selectAll()
        .execute(),
    ).toHaveLength(1);
  });

  it('keeps schemas apart and each search_path on its own schema', async () => {
    const a = await migratedDb(postgres.url, 'svc_a', 2);
    const b = await migratedDb(postgres.url, 'svc_b', 2);
    opened.push(a, b);
    await a.insertInto('widgets').values({ id: 1, name: 'in a' }).execute();
    expect(await b.selectFrom('widgets').selectAll().execute()).toEqual([]);
  });

  it('refuses a db whose search_path is another schema', async () => {
    const db = open('svc_other');
    await expect(
      migrateToLatest({ db, schema: 'svc_mismatch', migrationsFolder: fixtureMigrations }),
    ).rejects.toThrow(/search_path/);
  });

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => createDb({ connectionString: postgres.url, schema: 'x; drop' })).toThrow(
      /invalid schema/,
    );
  });

  it('keeps updated_at current through update_updated_at_column()', async () => {
    const db = await migratedDb(postgres.url, 'svc_trigger', 2);
    opened.push(db);
    await db
      .insertInto('widgets')
      .values({ id: 1, name: 'old', updated_at: new Date('2020-01-01T00:00:00Z') })
      .execute();
    await db.updateTable('widgets').set({ name: 'new' }).where('id', '=', 1).execute();
    const row = await db.selectFrom('widgets').select('updated_at').executeTakeFirstOrThrow();
    expect(Date.now() - row.updated_at.getTime()).toBeLessThan(60_000);
  });
});

describe('databaseReadiness', () => {
  it('passes against a live database and fails once its pool is closed', async () => {
    const db = createDb<TestTables>({ connectionString: postgres.url, schema: 'ready', max: 1 });
    const check = databaseReadiness(db);
    await expect(check()).resolves.toBeUndefined();
    await closeDb(db);
    await expect(check()).rejects.toThrow();
  });
});
