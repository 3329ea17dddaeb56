import { rowChunks } from '@happening/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { NewNotificationRow, NotificationDb, NotificationRow } from '../../database.ts';
import type { NotificationStatus } from '../../domain.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

/**
 * Stores new notifications; a row whose (source event, recipient, channel) exists already is
 * skipped, so a redelivered source event yields nothing new. Returns the rows actually inserted.
 */
export async function insertNotifications(
  db: Db,
  rows: readonly NewNotificationRow[],
): Promise<Array<{ id: string; correlation_id: string }>> {
  const inserted: Array<{ id: string; correlation_id: string }> = [];
  for (const chunk of rowChunks(rows, Object.keys(rows[0] ?? {}).length)) {
    inserted.push(
      ...(await db
        .insertInto('notifications')
        .values(chunk)
        .onConflict((oc) => oc.columns(['source_event_id', 'recipient', 'channel']).doNothing())
        .returning(['id', 'correlation_id'])
        .execute()),
    );
  }
  return inserted;
}

export async function findNotification(db: Db, id: string): Promise<NotificationRow | undefined> {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * One page of a person's notifications, newest first, after the keyset position `after`. Each
 * row carries its `created_at` as Postgres prints it (microseconds kept) for the next cursor: the
 * notifications of one event share one `created_at`, and a cursor rounded to the millisecond
 * would skip the rest of them.
 */
export async function listNotificationsOf(
  db: Db,
  userId: string,
  options: {
    status?: NotificationStatus;
    limit: number;
    after?: { createdAt: string; id: string };
  },
): Promise<(NotificationRow & { created_at_text: string })[]> {
  let query = db
    .selectFrom('notifications')
    .selectAll()
    .select(sql<string>`created_at::text`.as('created_at_text'))
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.status) query = query.where('status', '=', options.status);
  const after = options.after;
  if (after) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('created_at', 'id'),
        '<',
        eb.tuple(sql<Date>`${after.createdAt}::timestamptz`, after.id),
      ),
    );
  }
  return query.execute();
}

/**
 * Locks a pending notification for sending. Undefined when it is gone, no longer pending, or
 * locked by another worker that is sending it right now.
 */
export async function lockPending(
  trx: Transaction<NotificationDb>,
  id: string,
): Promise<NotificationRow | undefined> {
  return trx
    .selectFrom('notifications')
    .selectAll()
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
}

export async function markSent(
  trx: Transaction<NotificationDb>,
  id: string,
  providerMessageId: string | null,
): Promise<NotificationRow> {
  return trx
    .updateTable('notifications')
    .set((eb) => ({
      status: 'sent',
      attempts: eb('attempts', '+', 1),
      provider_message_id: providerMessageId,
      sent_at: sql<Date>`now()`,
      last_error: null,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Gives a notification up unsent: its recipient turned its channel off before it went out. */
export async function markSkipped(trx: Transaction<NotificationDb>, id: string): Promise<void> {
  await trx
    .updateTable('notifications')
    .set({ status: 'skipped', last_error: 'the recipient turned this channel off' })
    .where('id', '=', id)
    .execute();
}

/** Counts a failed attempt; `final` gives up and marks the notification failed. */
export async function recordFailure(
  trx: Transaction<NotificationDb>,
  id: string,
  error: string,
  final: boolean,
): Promise<NotificationRow> {
  return trx
    .updateTable('notifications')
    .set((eb) => ({
      status: final ? 'failed' : 'pending',
      attempts: eb('attempts', '+', 1),
      last_error: error,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Puts a failed notification back to pending; undefined when it was not failed. */
export async function reopenFailed(
  trx: Transaction<NotificationDb>,
  id: string,
): Promise<NotificationRow | undefined> {
  return trx
    .updateTable('notifications')
    .set({ status: 'pending' })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .returningAll()
    .executeTakeFirst();
}

/**
 * Claims notifications pending since before `olderThan` and bumps their `updated_at`, so another
 * replica's sweep (SKIP LOCKED) and the next round leave them alone until they go stale again.
 */
export async function claimStalePending(
  trx: Transaction<NotificationDb>,
  olderThan: Date,
  limit: number,
): Promise<Array<{ id: string; correlation_id: string }>> {
  return trx
    .updateTable('notifications')
    .set({ updated_at: sql<Date>`now()` })
    .where(
      'id',
      'in',
      trx
        .selectFrom('notifications')
        .select('id')
        .where('status', '=', 'pending')
        .where('updated_at', '<', olderThan)
        .orderBy('updated_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['id', 'correlation_id'])
    .execute();
}
