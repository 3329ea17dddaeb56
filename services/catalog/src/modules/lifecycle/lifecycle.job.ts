import { randomUUID } from 'node:crypto';
import { enqueueEvents, withTransaction } from '@happening/db';
import { sql, type Transaction } from 'kysely';
import type { CatalogDatabase, CatalogDb } from '../../database.ts';
import { eventStatusChanged } from '../events/event.outbox.ts';
import { toEvent } from '../events/event.repository.ts';
import { DUE_COLUMN, SCHEDULED_STEPS, type ScheduledStep } from './lifecycle.policy.ts';

/**
 * Moves at most `batch` due events one step on and enqueues one status_changed event for each.
 * The UPDATE re-checks the status itself: when several replicas run the job at once, a row one of
 * them moved no longer matches for the others (and SKIP LOCKED keeps them from queueing behind
 * each other), so every transition happens, and is announced, exactly once.
 */
async function moveDue(
  trx: Transaction<CatalogDatabase>,
  step: ScheduledStep,
  now: Date,
  batch: number,
  correlationId: string,
): Promise<number> {
  const due = DUE_COLUMN[step.due];
  const rows = await trx
    .updateTable('events')
    // Dated by the job's clock, never before the event's last change (as `changedAt` does).
    .set((eb) => ({
      status: step.to,
      version: eb('version', '+', 1),
      updated_at: sql<Date>`greatest(updated_at, ${now})`,
    }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('events')
        .select('id')
        .where('status', '=', step.from)
        .where(due, '<=', now)
        .orderBy(due)
        .limit(batch)
        .forUpdate()
        .skipLocked(),
    )
    .where('status', '=', step.from)
    .where(due, '<=', now)
    .returningAll()
    .execute();
  await enqueueEvents(
    trx,
    rows.map((row) => eventStatusChanged(toEvent(row), step.from, step.to, { correlationId })),
  );
  return rows.length;
}

/** One run of the lifecycle job at `now`; returns how many transitions it made. */
export async function runLifecycle(
  db: CatalogDb,
  now: Date,
  { batch = 500 } = {},
): Promise<number> {
  const correlationId = `lifecycle:${randomUUID()}`;
  let total = 0;
  for (;;) {
    const moved = await withTransaction(db, async (trx) => {
      let count = 0;
      for (const step of SCHEDULED_STEPS)
        count += await moveDue(trx, step, now, batch, correlationId);
      return count;
    });
    total += moved;
    if (moved < batch) return total;
  }
}
