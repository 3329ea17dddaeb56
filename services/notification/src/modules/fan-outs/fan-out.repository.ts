import type { InboxEntry } from '@happening/db';
import { sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

/** Makes the chunks of one message's fan-out take turns, however many deliveries of it run. */
export async function lockFanOut(
  trx: Transaction<NotificationDb>,
  messageId: string,
): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`fan-out:${messageId}`}, 0))`.execute(
    trx,
  );
}

/** The last holder the committed chunks of a fan-out reached; undefined before its first. */
export async function fanOutReached(
  trx: Transaction<NotificationDb>,
  messageId: string,
): Promise<string | undefined> {
  const row = await trx
    .selectFrom('fan_outs')
    .select('reached_user_id')
    .where('source_event_id', '=', messageId)
    .executeTakeFirst();
  return row?.reached_user_id;
}

export async function recordFanOutReached(
  trx: Transaction<NotificationDb>,
  messageId: string,
  userId: string,
): Promise<void> {
  await trx
    .insertInto('fan_outs')
    .values({ source_event_id: messageId, reached_user_id: userId })
    .onConflict((oc) => oc.column('source_event_id').doUpdateSet({ reached_user_id: userId }))
    .execute();
}

export async function endFanOut(
  trx: Transaction<NotificationDb>,
  messageId: string,
): Promise<void> {
  await trx.deleteFrom('fan_outs').where('source_event_id', '=', messageId).execute();
}

/** Whether the inbox has the message as handled by the consumer. */
export async function handledBefore(
  trx: Transaction<NotificationDb>,
  entry: InboxEntry,
): Promise<boolean> {
  const row = await trx
    .selectFrom('inbox')
    .select('message_id')
    .where('consumer', '=', entry.consumer)
    .where('message_id', '=', entry.messageId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Records the message as handled by the consumer, as `handleOnce` does, at the end instead. */
export async function recordHandled(
  trx: Transaction<NotificationDb>,
  entry: InboxEntry,
): Promise<void> {
  await trx
    .insertInto('inbox')
    .values({ consumer: entry.consumer, message_id: entry.messageId })
    .execute();
}
