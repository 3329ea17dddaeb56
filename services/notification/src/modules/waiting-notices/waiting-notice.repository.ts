import { ContractError, type DomainEvent, parseEvent } from '@happening/contracts';
import { UnprocessableMessage } from '@happening/messaging';
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

/** A notice that waited for its person's contact details, as stored. */
export interface WaitingNotice {
  sourceEventId: string;
  /** The source event's envelope as it arrived (one from an older release may no longer parse). */
  stored: unknown;
}

/**
 * Removes and returns the notices waiting for a person, oldest first, but those waiting longer
 * than `expiryMs`: they are left to the retention job. Each is read on its own
 * (`sourceEventOf`), so one that no longer parses holds back none of the others.
 */
export async function takeWaitingNotices(
  trx: Transaction<NotificationDb>,
  userId: string,
  expiryMs: number,
): Promise<WaitingNotice[]> {
  const rows = await trx
    .deleteFrom('waiting_notices')
    .where('user_id', '=', userId)
    .where('created_at', '>', sql<Date>`now() - make_interval(secs => ${expiryMs / 1_000}::float8)`)
    .returning(['source_event_id', 'source_event', 'created_at'])
    .execute();
  return rows
    .sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
    .map((row) => ({ sourceEventId: row.source_event_id, stored: row.source_event }));
}

/**
 * The source event of a waiting notice. A stored envelope that no longer parses (kept by an older
 * release, before a contract change) never will: `UnprocessableMessage`, naming the failing
 * fields but not what they hold.
 */
export function sourceEventOf(notice: WaitingNotice): DomainEvent {
  try {
    return parseEvent(notice.stored);
  } catch (error) {
    const what =
      error instanceof ContractError
        ? [error.code, ...error.issues.map((issue) => issue.path)].join(' ')
        : 'not an event envelope';
    throw new UnprocessableMessage(`its stored envelope no longer parses (${what})`);
  }
}

/** The event type a stored envelope names, for logs; undefined when it names none. */
export function storedTypeOf(notice: WaitingNotice): string | undefined {
  const { stored } = notice;
  const type = typeof stored === 'object' && stored !== null && 'type' in stored && stored.type;
  return typeof type === 'string' ? type : undefined;
}

/** How many notices wait for their person's contact details. */
export async function countWaitingNotices(db: Kysely<NotificationDb>): Promise<number> {
  const row = await db
    .selectFrom('waiting_notices')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
