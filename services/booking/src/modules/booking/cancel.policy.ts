import type { Role } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';
import type { CancelTarget } from '../inventory/event-lock.ts';
import { isStaff } from '../memberships/membership.policy.ts';
import { type BookingState, decide } from './booking.decider.ts';
import type { BookingEvent, CancellationReason } from './booking.events.ts';
import { bookingNotFound, type EventFacts, maySeeBooking } from './booking.policy.ts';

type Caller = { callerId: string; callerRole: Role | undefined; ownerId: string };

/** The caller's standing on the booking; throws BOOKING_NOT_FOUND when they may not see it. */
function seeing({ callerId, callerRole, ownerId }: Caller): { isOwner: boolean; isStaff: boolean } {
  if (!maySeeBooking(callerId, ownerId, callerRole)) throw bookingNotFound();
  return { isOwner: callerId === ownerId, isStaff: isStaff(callerRole) };
}

/**
 * Who may cancel: the owner before the event starts; an organizer or orgAdmin of the event's
 * organization until it is completed. Returns the reason recorded in history.
 */
export function cancellationReason(
  input: Caller & { event: Pick<EventFacts, 'startsAt' | 'status'>; now: Date },
): CancellationReason {
  const { event, now } = input;
  const { isOwner, isStaff } = seeing(input);
  const started = now.getTime() >= event.startsAt.getTime() || event.status !== 'upcoming';
  if (isOwner && !started) return 'by_owner';
  if (isStaff && event.status !== 'completed') return 'by_organizer';
  throw new DomainError(
    'BOOKING_NOT_CANCELLABLE',
    422,
    isStaff ? 'The event is completed.' : 'The event has already started.',
  );
}

/**
 * What cancelling `target` at `now` decides for the caller: the stream events to append and the
 * state they apply to, or nothing when the booking is already cancelled. Throws when the caller
 * may not. Both the batched and the lone cancellation decide with it.
 */
export function decideCancellation(
  request: { callerId: string; note?: string | undefined },
  target: CancelTarget,
  now: Date,
):
  | { state: Extract<BookingState, { status: 'confirmed' | 'waiting' }>; events: BookingEvent[] }
  | undefined {
  const { event, state } = target;
  const caller = {
    callerId: request.callerId,
    callerRole: target.callerRole,
    ownerId: target.ownerId,
  };
  if (state.status === 'cancelled') {
    // Nothing left to decide, so no timing rule applies: a retry whose first answer was lost
    // (the event may have started since) or a cancellation the event's own cancellation made
    // first answers the booking as it is. Only whoever may not see it is told it does not exist.
    seeing(caller);
    return undefined;
  }
  const reason = cancellationReason({ ...caller, event, now });
  const events = decide(
    { type: 'CancelBooking', reason, cancelledBy: request.callerId, note: request.note },
    state,
  );
  if (state.status !== 'confirmed' && state.status !== 'waiting') return undefined;
  return { state, events };
}
