import type { Role } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';
import { isStaff } from '../memberships/membership.policy.ts';

/** What booking needs to know about an event (its inventory projection). */
export interface EventFacts {
  eventId: string;
  orgId: string;
  name: string;
  startsAt: Date;
  totalSlots: number;
  maxSeatsPerBooking: number;
  waitlistPolicy: 'fifo' | 'first_fit';
  status: 'draft' | 'upcoming' | 'ongoing' | 'completed' | 'cancelled';
}

export const eventNotFound = () => new DomainError('EVENT_NOT_FOUND', 404, 'No such event.');

export const bookingNotFound = () => new DomainError('BOOKING_NOT_FOUND', 404, 'No such booking.');

/**
 * Who may see a booking (exactly those `GET /v1/bookings/{id}` answers): its owner, and the
 * organizers and orgAdmins of the event's organization. To anyone else it does not exist.
 */
export function maySeeBooking(callerId: string, ownerId: string, role: Role | undefined): boolean {
  return callerId === ownerId || isStaff(role);
}

/**
 * Whether a caller may know the event exists: never a draft (known here only from an update
 * delivered before its publish); a members-only event only to its organization's members.
 */
export function mayKnowEvent(
  event: { status: EventFacts['status']; visibility: 'public' | 'members' },
  isMember: boolean,
): boolean {
  return event.status !== 'draft' && (event.visibility === 'public' || isMember);
}

/** Checks a booking request against the event; throws the DomainError that answers it. */
export function checkBookable(
  event: EventFacts,
  request: { seats: number; seatNumbers?: number[] | undefined },
  now: Date,
): void {
  if (event.status !== 'upcoming' || now.getTime() >= event.startsAt.getTime()) {
    throw new DomainError('EVENT_NOT_OPEN', 422, 'The event does not take bookings.');
  }
  // Also capped at the event's size: a request that could never fit would wait forever, and
  // under fifo everyone behind it too.
  const most = Math.min(event.maxSeatsPerBooking, event.totalSlots);
  if (request.seats > most) {
    throw new DomainError('BOOKING_TOO_MANY_SEATS', 422, `At most ${most} seats per booking.`, {
      maxSeatsPerBooking: most,
    });
  }
  const wanted = request.seatNumbers;
  if (wanted === undefined) return;
  if (wanted.length !== request.seats || new Set(wanted).size !== wanted.length) {
    throw new DomainError(
      'BOOKING_SEAT_NUMBERS_INVALID',
      422,
      'seatNumbers must name exactly `seats` distinct seats.',
    );
  }
  if (wanted.some((seat) => seat > event.totalSlots)) {
    throw new DomainError('BOOKING_SEAT_NUMBERS_INVALID', 422, 'No such seat at this event.');
  }
}
