import type { EventEnvelope } from '@happening/contracts';
import { sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

type CancellationEnvelope = EventEnvelope<'catalog.event_cancelled'>;

/**
 * Serialises what one event's holders and its cancellation do to the projections: a booking
 * handled at the same time as the event's cancellation either is a holder when the cancellation
 * fans out, or finds the cancellation recorded when its own notice is written — never neither.
 */
export async function lockEventHolders(
  trx: Transaction<NotificationDb>,
  eventId: string,
): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`holders:${eventId}`}, 0))`.execute(
    trx,
  );
}

/** Records an event's cancellation (the first one, should it be delivered again). */
export async function recordCancellation(
  trx: Transaction<NotificationDb>,
  cancellation: CancellationEnvelope,
): Promise<void> {
  await trx
    .insertInto('cancelled_events')
    .values({ event_id: cancellation.data.eventId, cancellation: JSON.stringify(cancellation) })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .execute();
}

/** The cancellation of an event, if it was cancelled. */
export async function cancellationOf(
  trx: Transaction<NotificationDb>,
  eventId: string,
): Promise<CancellationEnvelope | undefined> {
  const row = await trx
    .selectFrom('cancelled_events')
    .select('cancellation')
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return row?.cancellation as CancellationEnvelope | undefined;
}
