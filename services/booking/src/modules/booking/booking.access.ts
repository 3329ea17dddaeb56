import type { Kysely } from 'kysely';
import type { BookingDb, BookingRow } from '../../db/database.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { bookingNotFound, maySeeBooking } from './booking.policy.ts';
import { findBooking } from './booking.repository.ts';

/** A booking the caller may see: its owner, or an organizer/orgAdmin of its organization. */
export async function visibleBooking(
  db: Kysely<BookingDb>,
  bookingId: string,
  callerId: string,
): Promise<BookingRow> {
  const row = await findBooking(db, bookingId);
  if (!row) throw bookingNotFound();
  // The owner needs no membership lookup.
  const role = row.user_id === callerId ? undefined : await roleOf(db, row.org_id, callerId);
  if (!maySeeBooking(callerId, row.user_id, role)) throw bookingNotFound();
  return row;
}
