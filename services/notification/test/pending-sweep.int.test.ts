import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staleClaim } from '../src/modules/notifications/notification.repository.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: [200] });
});

afterAll(async () => {
  await h?.stop();
});

type PlanNode = { 'Rows Removed by Filter'?: number; Plans?: PlanNode[]; [key: string]: unknown };

/** Rows every node of a plan read and then threw away. */
function rowsRemovedByFilter(node: PlanNode): number {
  return (
    (node['Rows Removed by Filter'] ?? 0) +
    (node.Plans ?? []).reduce((sum, child) => sum + rowsRemovedByFilter(child), 0)
  );
}

describe('the pending sweep', () => {
  it('reads only what it claims, however many fresh notifications are pending', async () => {
    // Inside a transaction that is rolled back: the service's own sweep never sees these rows.
    const removed = await h.db
      .transaction()
      .execute(async (trx) => {
        await sql`
          INSERT INTO notifications (id, recipient, type, channel, locale, template_version,
            subject, body, source_event_id, correlation_id)
          SELECT gen_random_uuid(), 'n' || i || '@example.test', 'org_invite', 'email', 'en', 1,
            's', 'b', gen_random_uuid(), 'c'
          FROM generate_series(1, 20000) AS i`.execute(trx);
        await sql`ANALYZE notifications`.execute(trx);
        const compiled = staleClaim(trx, new Date(Date.now() - 60_000), 100).compile();
        const { rows } = await trx.executeQuery<{ 'QUERY PLAN': { Plan: PlanNode }[] }>({
          ...compiled,
          sql: `EXPLAIN (ANALYZE, FORMAT JSON) ${compiled.sql}`,
        });
        const removedRows = rowsRemovedByFilter(
          (rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan,
        );
        throw Object.assign(new Error('rollback'), { removedRows });
      })
      .catch((error: { removedRows?: number }) => {
        if (error.removedRows === undefined) throw error;
        return error.removedRows;
      });
    expect(removed).toBeLessThan(100);
  });

  it('claims at most its limit, stale and abandoned together', async () => {
    const claimed = await h.db
      .transaction()
      .execute(async (trx) => {
        // 150 pending for an hour, unleased; 150 whose lease ran out a minute ago.
        await sql`
          INSERT INTO notifications (id, recipient, type, channel, locale, template_version,
            subject, body, source_event_id, correlation_id, updated_at, lease_token, leased_until)
          SELECT gen_random_uuid(), 'l' || i || '@example.test', 'org_invite', 'email', 'en', 1,
            's', 'b', gen_random_uuid(), 'c', now() - interval '1 hour',
            CASE WHEN i > 150 THEN gen_random_uuid() END,
            CASE WHEN i > 150 THEN now() - interval '1 minute' END
          FROM generate_series(1, 300) AS i`.execute(trx);
        const rows = await staleClaim(trx, new Date(Date.now() - 60_000), 100).execute();
        throw Object.assign(new Error('rollback'), { claimed: rows.length });
      })
      .catch((error: { claimed?: number }) => {
        if (error.claimed === undefined) throw error;
        return error.claimed;
      });
    expect(claimed).toBe(100);
  });
});
