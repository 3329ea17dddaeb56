import { type DomainEvent, parseEvent } from '@happening/contracts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

/**
 * Keeps the notice `event` calls for waiting for each of `userIds`, people whose contact details
 * have not arrived; one per event and person, however often the event is handled. Returns how
 * many started waiting.
 */
export async function keepWaiting(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
  userIds: readonly string[],
): Promise<number> {
  // One array parameter and one copy of the envelope, however many holders wait.
  const result = await trx
    .insertInto('waiting_notices')
    .columns(['user_id', 'source_event_id', 'source_event'])
    .expression(
      sql`SELECT user_id, ${event.id}::uuid, ${JSON.stringify(event)}::jsonb
          FROM unnest(${[...userIds]}::text[]) AS user_id`,
    )
    .onConflict((oc) => oc.columns(['user_id', 'source_event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * Removes and returns the source events of the notices waiting for a person, oldest first, but
 * those waiting longer than `expiryMs`: they are left to the retention job.
 */
export async function takeWaitingNotices(
  trx: Transaction<NotificationDb>,
  userId: string,
  expiryMs: number,
): Promise<DomainEvent[]> {
  const rows = await trx
    .deleteFrom('waiting_notices')
    .where('user_id', '=', userId)
    .where('created_at', '>', sql<Date>`now() - make_interval(secs => ${expiryMs / 1_000}::float8)`)
    .returning(['source_event', 'created_at'])
    .execute();
  return rows
    .sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
    .map((row) => parseEvent(row.source_event));
}

/** How many notices wait for their person's contact details. */
export async function countWaitingNotices(db: Kysely<NotificationDb>): Promise<number> {
  const row = await db
    .selectFrom('waiting_notices')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
