import { rm } from 'node:fs/promises';
import { closeDb, createDb, migrateToLatest } from '@happening/db';
import { indexIn, migrationsBefore } from '@happening/db/testing';
import { type Infra, startInfra } from '@happening/testkit';
import {
  CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDatabase, Executor } from '../src/database.ts';
import type { EventStatus } from '../src/modules/events/event.model.ts';
import { listOrgEvents, listPublicEvents } from '../src/modules/events/event-listing.repository.ts';
import { MIGRATIONS_FOLDER } from '../src/schema.ts';

let infra: Infra;
const opened: Kysely<unknown>[] = [];

beforeAll(async () => {
  infra = await startInfra();
});

afterAll(async () => {
  await Promise.all(opened.map((db) => closeDb(db)));
  await infra?.stop();
});

function open<DB = unknown>(schema: string): Kysely<DB> {
  const db = createDb<DB>({ connectionString: infra.postgresUrl, schema, max: 2 });
  opened.push(db as Kysely<unknown>);
  return db;
}

/** The plan Postgres picks for the statement `list` sends, with the parameters it sends. */
async function planOf(db: Executor, list: (recorder: Executor) => Promise<unknown>) {
  const sent: CompiledQuery[] = [];
  const recorder = new Kysely<CatalogDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      if (event.level === 'query') sent.push(event.query);
    },
  });
  await list(recorder);
  expect(sent).toHaveLength(1);
  const [query] = sent as [CompiledQuery];
  const { rows } = await db.executeQuery<{ 'QUERY PLAN': string }>(
    CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]),
  );
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

const bigOrg = '00000000-0000-4000-8000-000000000000';

/**
 * 20,000 events of 50 orgs, half of them `bigOrg`'s, started from 300 days back to 116 ahead, one
 * in a hundred a hackathon: enough that Postgres reads no table whole, and without the indexes reads
 * every listed event (or the org's) for the few rows a filter keeps.
 */
async function seed(db: Kysely<CatalogDatabase>, now: Date) {
  await sql`
    INSERT INTO events (id, org_id, name, category, starts_at, ends_at, timezone, total_slots,
      status, published_at, created_by, created_at, updated_at)
    SELECT gen_random_uuid(), org_id, 'Event ' || g, category, starts_at,
      starts_at + interval '2 hours', 'UTC', 100, status,
      CASE WHEN status = 'draft' THEN NULL ELSE starts_at - interval '30 days' END,
      'seed', starts_at - interval '40 days', starts_at - interval '30 days'
    FROM (
      SELECT g,
        ('00000000-0000-4000-8000-' || lpad(to_hex(CASE WHEN g % 2 = 0 THEN 0 ELSE g % 50 END), 12, '0'))::uuid AS org_id,
        CASE WHEN g % 100 = 7 THEN 'hackathon'
          ELSE (ARRAY['concert', 'conference', 'meetup', 'workshop', 'webinar', 'other'])[1 + g % 6]
        END AS category,
        starts_at,
        CASE WHEN starts_at + interval '2 hours' <= ${now} THEN 'completed'
          WHEN starts_at <= ${now} THEN 'ongoing'
          WHEN g % 10 = 0 THEN 'draft'
          WHEN g % 10 = 1 THEN 'cancelled'
          ELSE 'upcoming' END AS status
      FROM (
        SELECT g, ${now}::timestamptz - interval '300 days' + (g * 37 % 20000) * interval '30 minutes'
          AS starts_at
        FROM generate_series(1, 20000) g) timed) seeded`.execute(db);
  await sql`ANALYZE events`.execute(db);
}

describe('the lists’ filter indexes (migration 20251128000000)', () => {
  const schema = 'catalog_list_plans';
  const now = new Date();
  let db: Kysely<CatalogDatabase>;

  beforeAll(async () => {
    db = open<CatalogDatabase>(schema);
    await migrateToLatest({ db, schema, migrationsFolder: MIGRATIONS_FOLDER });
    await seed(db, now);
  });

  it('serve the public list by category, a rare one too, on the first page and the next', async () => {
    const plan = await planOf(db, (recorder) =>
      listPublicEvents(recorder, { viewerId: 'viewer', now, category: 'hackathon', take: 21 }),
    );
    // So few that Postgres may rather sort them than read them in order: read them, not the listing.
    expect(plan).toMatch(
      /Index Scan (?:using|on) events_listed_category_idx[^\n]*\n\s+Index Cond: \(category = 'hackathon'::text\)/,
    );

    const after = { startsAt: now, id: '00000000-0000-4000-8000-000000000000' };
    const next = await planOf(db, (recorder) =>
      listPublicEvents(recorder, { viewerId: 'viewer', now, category: 'concert', after, take: 21 }),
    );
    expect(next).toMatch(
      /Index Scan using events_listed_category_idx[^\n]*\n\s+Index Cond: \(\(category = 'concert'::text\) AND \(ROW\(starts_at, id\) > ROW/,
    );
    expect(next).not.toContain('Sort');
  });

  it.each<EventStatus>([
    'upcoming',
    'draft',
  ])('serve an organization’s list by status %s', async (status) => {
    const plan = await planOf(db, (recorder) =>
      listOrgEvents(recorder, { orgId: bigOrg, status, now, take: 21 }),
    );
    expect(plan).toContain('Index Scan using events_org_status_idx');
    expect(plan).not.toContain('Sort');
  });

  it('built CONCURRENTLY beforehand, are the indexes the migration would build, and are kept', async () => {
    const upgraded = 'catalog_list_upgraded';
    const earlier = await migrationsBefore(
      MIGRATIONS_FOLDER,
      '20251128000000_event_list_filter_indexes',
    );
    const before = open(upgraded);
    try {
      // A long-running installation on the release before.
      await migrateToLatest({ db: before, schema: upgraded, migrationsFolder: earlier });
    } finally {
      await rm(earlier, { recursive: true });
    }
    expect(await indexIn(before, upgraded, 'events_listed_category_idx')).toEqual([]);
    await sql`
      CREATE INDEX CONCURRENTLY events_listed_category_idx ON catalog_list_upgraded.events
      (category, starts_at, id) WHERE status IN ('upcoming', 'ongoing')`.execute(before);
    await sql`
      CREATE INDEX CONCURRENTLY events_org_status_idx ON catalog_list_upgraded.events
      (org_id, status, starts_at, id)`.execute(before);

    await migrateToLatest({ db: before, schema: upgraded, migrationsFolder: MIGRATIONS_FOLDER });

    for (const name of ['events_listed_category_idx', 'events_org_status_idx']) {
      const built = await indexIn(db as Kysely<unknown>, schema, name);
      expect(built).toEqual([{ definition: expect.stringContaining(name), valid: true }]);
      expect(await indexIn(before, upgraded, name)).toEqual(built);
    }
  });
});
