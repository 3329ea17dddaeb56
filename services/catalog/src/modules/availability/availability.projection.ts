import type { DomainEvent } from '@happening/contracts';
import type { Executor } from '../../database.ts';

export type AvailabilityChanged = Extract<DomainEvent, { type: 'booking.availability_changed' }>;

/** Keeps only the newest figures per event: an older `sequence` arriving late changes nothing. */
export async function applyAvailabilityChanged(
  db: Executor,
  event: AvailabilityChanged,
): Promise<void> {
  const d = event.data;
  const figures = {
    org_id: d.orgId,
    total_slots: d.totalSlots,
    available_slots: d.availableSlots,
    confirmed_seats: d.confirmedSeats,
    waitlist_length: d.waitlistLength,
    sequence: d.sequence,
  };
  await db
    .insertInto('availability')
    .values({ event_id: d.eventId, ...figures })
    .onConflict((oc) =>
      oc
        .column('event_id')
        .doUpdateSet(figures)
        .whereRef('availability.sequence', '<', 'excluded.sequence'),
    )
    .execute();
}

/** Seats booking has confirmed for an event, as last reported (0 before any report). */
export async function confirmedSeatsOf(db: Executor, eventId: string): Promise<number> {
  const row = await db
    .selectFrom('availability')
    .select('confirmed_seats')
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return row?.confirmed_seats ?? 0;
}
