import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import type { Db, Trx } from '../src/shared/database.ts';
import { lockOrganization } from '../src/shared/org-events.ts';

/** Waits until `count` sessions wait for a lock (a row, an advisory lock or a transaction). */
export async function lockWaiters(db: Db, count: number): Promise<void> {
  await eventually(async () => {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db);
    return Number(rows[0]?.n) >= count;
  });
}

/** Holds the organization's lock, as a membership change does, for `during`. */
export function holdingOrganization<T>(
  db: Db,
  orgId: string,
  during: (trx: Trx) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await lockOrganization(trx, orgId);
    return during(trx);
  });
}
