import type { DomainEvent } from '@happening/contracts';
import type { Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import {
  lockEventHolders,
  recordCancellation,
} from '../cancelled-events/cancelled-event.repository.ts';
import { applyHolderChange, type HolderChange, holderStateOf } from './event-holder.repository.ts';

/** The holders-projection change a booking event implies (pure). */
export function holderChangeOf(event: DomainEvent): HolderChange | undefined {
  const base = (d: {
    bookingId: string;
    eventId: string;
    orgId: string;
    userId: string;
    eventEndsAt?: string | undefined;
  }) => ({
    bookingId: d.bookingId,
    eventId: d.eventId,
    orgId: d.orgId,
    userId: d.userId,
    bookingVersion: event.aggregate.version,
    eventEndsAt: d.eventEndsAt,
  });
  switch (event.type) {
    case 'booking.booking_confirmed':
    case 'booking.waitlist_promoted':
      return { ...base(event.data), status: 'confirmed', cancelReason: null };
    case 'booking.booking_waitlisted':
      return { ...base(event.data), status: 'waiting', cancelReason: null };
    case 'booking.booking_cancelled':
      return { ...base(event.data), status: 'cancelled', cancelReason: event.data.reason };
    default:
      return undefined;
  }
}

/**
 * Keeps `event_holders` in step with the booking events, and records events' cancellations, each
 * under its event's holders lock (see `lockEventHolders`).
 */
export async function projectEventHolders(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
): Promise<void> {
  if (event.type === 'catalog.event_cancelled') {
    await lockEventHolders(trx, event.data.eventId);
    await recordCancellation(trx, event);
    return;
  }
  const change = holderChangeOf(event);
  if (!change) return;
  await lockEventHolders(trx, change.eventId);
  await applyHolderChange(trx, change);
}

/**
 * Whether a booking event's news is overtaken: a later change of the same booking (or its
 * cancellation) reached the projection first, so "confirmed" must not follow "cancelled".
 */
export async function holderChangeOvertaken(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
): Promise<boolean> {
  const change = holderChangeOf(event);
  if (!change || change.status === 'cancelled') return false;
  const state = await holderStateOf(trx, change.bookingId);
  return (
    state !== undefined &&
    (state.status === 'cancelled' || state.bookingVersion > change.bookingVersion)
  );
}

/**
 * Whether the event's cancellation concerns a booking, judged by where the projection has the
 * booking now (a late event's own status is stale): it does unless the booking was cancelled
 * for another reason, by its owner or the organizer, before the event was.
 */
export async function cancellationConcerns(
  trx: Transaction<NotificationDb>,
  bookingId: string,
): Promise<boolean> {
  const state = await holderStateOf(trx, bookingId);
  return state?.status !== 'cancelled' || state.cancelReason === 'event_cancelled';
}
