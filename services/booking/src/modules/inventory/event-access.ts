import type { Kysely } from 'kysely';
import type { BookingContext } from '../../context.ts';
import type { BookingDb } from '../../db/database.ts';
import { eventNotFound, mayKnowEvent } from '../booking/booking.policy.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { findEvent } from './event-inventory.repository.ts';

/** The event, if the caller may know it (`mayKnowEvent`); 404 otherwise. */
export async function visibleEvent(db: Kysely<BookingDb>, eventId: string, callerId: string) {
  const event = await findEvent(db, eventId);
  if (!event) throw eventNotFound();
  // The role is only looked up where it matters.
  const isMember =
    event.visibility === 'members' && Boolean(await roleOf(db, event.orgId, callerId));
  if (!mayKnowEvent(event, isMember)) throw eventNotFound();
  return event;
}

/**
 * The event and the caller's role in its organization, for the routes of its staff: 404 unless
 * the caller is a member who may know the event (never a draft). Each route decides which roles
 * it serves (403 for the others).
 */
export async function eventOfMember(ctx: BookingContext, eventId: string, callerId: string) {
  const event = await findEvent(ctx.db, eventId);
  if (!event || !mayKnowEvent(event, true)) throw eventNotFound();
  const role = await roleOf(ctx.db, event.orgId, callerId);
  if (!role) throw eventNotFound();
  return { event, role };
}
