import { startPostgres } from '@happening/testkit';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '../src/index.ts';
import { migratedDb } from './support.ts';

let postgres: Awaited<ReturnType<typeof startPostgres>>;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres?.stop();
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

describe('outbox_heads', () => {
  it('locks the oldest heads by walking the waiting rows in id order, whatever the planner would choose', async () => {
    const schema = 'outbox_heads_stale';
    const db = await migratedDb(postgres.url, schema);
    try {
      // 3,000 published rows, then a burst of 3,000 waiting ones, each of an aggregate of its own
      // but for five queued behind the first.
      await sql`INSERT INTO outbox (message_id, routing_key, payload, aggregate_type, aggregate_id, published_at)
                SELECT gen_random_uuid()::text, 'test.changed', '{}'::jsonb, 'test', 'old-' || g, now()
                FROM generate_series(1, 3000) g`.execute(db);
      await sql`ANALYZE outbox`.execute(db);
      await sql`INSERT INTO outbox (message_id, routing_key, payload, aggregate_type, aggregate_id)
                SELECT gen_random_uuid()::text, 'test.changed', '{}'::jsonb, 'test',
                       CASE WHEN g <= 6 THEN 'queued' ELSE 'burst-' || g END
                FROM generate_series(1, 3000) g`.execute(db);
      const waiting = await sql<{ id: string; aggregate_id: string }>`
        SELECT id, aggregate_id FROM outbox WHERE published_at IS NULL ORDER BY id`.execute(db);
      const expectedHeads = waiting.rows
        .filter((row, i) => row.aggregate_id !== 'queued' || i === 0)
        .slice(0, 100)
        .map((row) => row.id);

      // auto_explain hands the nested statement's plan to this client as a notice.
      const client = new pg.Client({
        connectionString: postgres.url,
        options: `-c search_path=${schema}`,
      });
      await client.connect();
      try {
        const notices: string[] = [];
        client.on('notice', (notice) => notices.push(notice.message ?? ''));
        await client.query(`LOAD 'auto_explain'`);
        await client.query(`SET auto_explain.log_min_duration = 0`);
        await client.query(`SET auto_explain.log_nested_statements = on`);
        await client.query(`SET auto_explain.log_analyze = on`);
        await client.query(`SET auto_explain.log_format = json`);
        await client.query(`SET auto_explain.log_level = notice`);
        // Index scans priced out, as stale statistics do in effect during a burst: left to its own
        // choices the planner would read every waiting row and sort them.
        await client.query('SET random_page_cost = 1000');
        await client.query('BEGIN');
        const heads = await client.query<{ id: string; aggregate_id: string; queued: boolean }>(
          `SELECT h.id, o.aggregate_id, h.queued
           FROM outbox_heads(100) h JOIN outbox o ON o.id = h.id ORDER BY h.id`,
        );
        await client.query('ROLLBACK');

        expect(heads.rows.map((row) => row.id)).toEqual(expectedHeads);
        // Only the head with rows of its key behind it says so.
        expect(heads.rows.filter((row) => row.queued).map((row) => row.aggregate_id)).toEqual([
          'queued',
        ]);
        const nested = notices.find((text) => text.includes('key_head'));
        expect(nested, 'the head query plan').toBeDefined();
        const plan = JSON.parse(nested!.slice(nested!.indexOf('{'))) as { Plan: PlanNode };
        const nodes = nodesOf(plan.Plan);
        const types = nodes.map((node) => node['Node Type']);
        expect(types).not.toContain('Sort');
        expect(types).not.toContain('Bitmap Heap Scan');
        const walk = nodes.find(
          (node) =>
            node['Node Type'] === 'Index Scan' && node['Index Name'] === 'outbox_unpublished',
        );
        // Stopped after the first heads instead of reading all 3,000 waiting rows.
        expect(walk?.['Actual Rows']).toBeLessThan(200);
      } finally {
        await client.end();
      }
    } finally {
      await closeDb(db);
    }
  });
});
