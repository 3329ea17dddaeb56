import { sql, type Transaction } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NotificationDb } from '../src/database.ts';
import { sweepPending } from '../src/modules/delivery/pending.sweep.ts';
import { staleClaim } from '../src/modules/notifications/notification.repository.ts';
import { strayNotification } from './events.fixture.ts';
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

/**
 * Runs `work` in a transaction that is always rolled back, and answers what it answered: the
 * rows a test seeds there are never seen by the service's own sweep.
 */
async function rolledBack<T>(work: (trx: Transaction<NotificationDb>) => Promise<T>): Promise<T> {
  const answered: { value?: T } = {};
  const rollback = new Error('rollback');
  await h.db
    .transaction()
    .execute(async (trx) => {
      answered.value = await work(trx);
      throw rollback;
    })
    .catch((error: unknown) => {
      if (error !== rollback) throw error;
    });
  return answered.value as T;
}

describe('the pending sweep', () => {
  it('reads only what it claims, however many fresh notifications are pending', async () => {
    const removed = await rolledBack(async (trx) => {
      await sql`
        INSERT INTO notifications (id, recipient, type, channel, locale, template_version,
          subject, body, source_event_id, correlation_id)
        SELECT gen_random_uuid(), 'n' || i || '@example.test', 'org_invite', 'email', 'en', 1,
          's', 'b', gen_random_uuid(), 'c'
        FROM generate_series(1, 20000) AS i`.execute(trx);
      await sql`ANALYZE notifications`.execute(trx);
      const compiled = staleClaim(trx, 60_000, 100, 5).compile();
      const { rows } = await trx.executeQuery<{ 'QUERY PLAN': { Plan: PlanNode }[] }>({
        ...compiled,
        sql: `EXPLAIN (ANALYZE, FORMAT JSON) ${compiled.sql}`,
      });
      return rowsRemovedByFilter((rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan);
    });
    expect(removed).toBeLessThan(100);
  });

  it('claims at most its limit, stale and abandoned together', async () => {
    const claimed = await rolledBack(async (trx) => {
      // 150 pending for an hour, unleased; 150 whose lease ran out a minute ago.
      await sql`
        INSERT INTO notifications (id, recipient, type, channel, locale, template_version,
          subject, body, source_event_id, correlation_id, updated_at, lease_token, leased_until)
        SELECT gen_random_uuid(), 'l' || i || '@example.test', 'org_invite', 'email', 'en', 1,
          's', 'b', gen_random_uuid(), 'c', now() - interval '1 hour',
          CASE WHEN i > 150 THEN gen_random_uuid() END,
          CASE WHEN i > 150 THEN now() - interval '1 minute' END
        FROM generate_series(1, 300) AS i`.execute(trx);
      return (await staleClaim(trx, 60_000, 100, 5).execute()).length;
    });
    expect(claimed).toBe(100);
  });

  it('measures staleness on the database clock, however far ahead the replica’s clock is', async () => {
    // Untouched for 30 s and for 2 min by the database's clock, which writes `updated_at`.
    const fresh = strayNotification({ recipient: 'fresh-by-db-clock@example.test' });
    const stale = strayNotification({ recipient: 'stale-by-db-clock@example.test' });
    await h.db
      .insertInto('notifications')
      .values([
        { ...fresh, updated_at: sql<Date>`now() - interval '30 seconds'` },
        { ...stale, updated_at: sql<Date>`now() - interval '2 minutes'` },
      ])
      .execute();
    const touched = async (id: string) =>
      (
        await h.db
          .selectFrom('notifications')
          .select(sql<string>`updated_at::text`.as('at'))
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).at;
    const [freshBefore, staleBefore] = [await touched(fresh.id), await touched(stale.id)];

    // This replica's clock runs ten minutes ahead.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 });
    try {
      await sweepPending({
        db: h.db,
        logger: pino({ level: 'silent' }),
        intervalMs: 60_000,
        staleAfterMs: 60_000,
        maxAttempts: 2,
      });
    } finally {
      vi.useRealTimers();
    }
    expect(await touched(fresh.id)).toBe(freshBefore);
    expect(await touched(stale.id)).not.toBe(staleBefore);
  });
});
