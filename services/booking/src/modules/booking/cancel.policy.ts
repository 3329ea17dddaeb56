import type { Role } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';
import type { CancellationReason } from './booking.events.ts';
import type { EventFacts } from './booking.policy.ts';

/**
 * Who may cancel: the owner before the event starts; an organizer or orgAdmin of the event's
 * organization until it is completed. Returns the reason recorded in history.
 */
export function cancellationReason(input: {
  callerId: string;
  callerRole: Role | undefined;
  ownerId: string;
  event: Pick<EventFacts, 'startsAt' | 'status'>;
  now: Date;
}): CancellationReason {
  const { callerId, callerRole, ownerId, event, now } = input;
  const isOwner = callerId === ownerId;
  const isStaff = callerRole === 'organizer' || callerRole === 'orgAdmin';
  if (!isOwner && !isStaff) throw new DomainError('BOOKING_NOT_FOUND', 404, 'No such booking.');
  const started = now.getTime() >= event.startsAt.getTime() || event.status !== 'upcoming';
  if (isOwner && !started) return 'by_owner';
  if (isStaff && event.status !== 'completed') return 'by_organizer';
  throw new DomainError(
    'BOOKING_NOT_CANCELLABLE',
    422,
    isStaff ? 'The event is completed.' : 'The event has already started.',
  );
}
