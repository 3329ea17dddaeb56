import { DomainError } from '@happening/service-kit';
import type { Kysely } from 'kysely';
import type { BookingDb, BookingRow } from '../../db/database.ts';
import { isStaff, roleOf } from '../memberships/membership.repository.ts';
import { findBooking } from './booking.repository.ts';

export const bookingNotFound = () => new DomainError('BOOKING_NOT_FOUND', 404, 'No such booking.');

/** A booking the caller may see: its owner, or an organizer/orgAdmin of its organization. */
export async function visibleBooking(
  db: Kysely<BookingDb>,
  bookingId: string,
  callerId: string,
): Promise<BookingRow> {
  const row = await findBooking(db, bookingId);
  if (!row) throw bookingNotFound();
  if (row.user_id !== callerId && !isStaff(await roleOf(db, row.org_id, callerId)))
    throw bookingNotFound();
  return row;
}
