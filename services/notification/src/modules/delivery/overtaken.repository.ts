import { sql, type Transaction } from 'kysely';
import type { NotificationDb, NotificationRow } from '../../database.ts';
import { cancellationOf } from '../cancelled-events/cancelled-event.repository.ts';
import { holderStateOf } from '../event-holders/event-holder.repository.ts';
import type { SentNotice, SinceWritten } from './overtaken.policy.ts';

/**
 * What happened since a notification was written that may overtake it (see `overtakenBy`): its
 * booking's place in the holders projection, its event's recorded cancellation, and its person's
 * notices on its channel about its booking, or updates of its event, that were sent.
 */
export async function sinceWritten(
  trx: Transaction<NotificationDb>,
  row: NotificationRow,
): Promise<SinceWritten> {
  const holder = row.booking_id === null ? undefined : await holderStateOf(trx, row.booking_id);
  const cancellation = row.event_id === null ? undefined : await cancellationOf(trx, row.event_id);
  return {
    bookingCancelled: holder?.status === 'cancelled',
    bookingVersion: holder?.bookingVersion ?? null,
    eventCancelled: cancellation !== undefined,
    holdsBooking: row.type === 'event_updated' ? await holdsBooking(trx, row) : true,
    sent: await sentAbout(trx, row),
  };
}

async function sentAbout(
  trx: Transaction<NotificationDb>,
  row: NotificationRow,
): Promise<SentNotice[]> {
  const { user_id: userId, booking_id: bookingId, event_id: eventId } = row;
  if (userId === null || eventId === null) return [];
  const rows = await trx
    .selectFrom('notifications as o')
    .select(['o.type', 'o.event_id', 'o.booking_id', 'o.booking_version', 'o.event_version'])
    // Compared in Postgres, on the stored values.
    .select(
      sql<boolean>`o.created_at > (SELECT created_at FROM notifications WHERE id = ${row.id})`.as(
        'written_after',
      ),
    )
    .where('o.user_id', '=', userId)
    .where('o.channel', '=', row.channel)
    .where('o.status', '=', 'sent')
    .where('o.id', '<>', row.id)
    .where((eb) =>
      eb.or([
        ...(bookingId === null ? [] : [eb('o.booking_id', '=', bookingId)]),
        eb.and([eb('o.event_id', '=', eventId), eb('o.type', '=', 'event_updated')]),
      ]),
    )
    .execute();
  return rows.map((r) => ({
    type: r.type,
    eventId: r.event_id,
    bookingId: r.booking_id,
    bookingVersion: r.booking_version,
    eventVersion: r.event_version,
    writtenAfter: r.written_after,
  }));
}

/** Whether the notice's person holds a confirmed or waiting booking for its event. */
async function holdsBooking(trx: Transaction<NotificationDb>, row: NotificationRow) {
  if (row.user_id === null || row.event_id === null) return false;
  const held = await trx
    .selectFrom('event_holders')
    .select('booking_id')
    .where('event_id', '=', row.event_id)
    .where('user_id', '=', row.user_id)
    .where('status', 'in', ['confirmed', 'waiting'])
    .limit(1)
    .executeTakeFirst();
  return held !== undefined;
}
