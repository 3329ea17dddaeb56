import { buildEvent, type EventEnvelope } from '@happening/contracts';
import type { EventRecord } from '../inventory/event-inventory.repository.ts';
import type { BookingState } from './booking.decider.ts';
import type { BookingEvent } from './booking.events.ts';

export interface EnvelopeMeta {
  correlationId: string;
  causationId?: string | undefined;
  /** The booking's stream version after the event. */
  version: number;
  /** Live waitlist place, for a waitlisted booking. */
  waitlistPosition?: number | undefined;
}

/**
 * Maps one internal stream event to its contract event. Internal events are private: renaming
 * one never breaks a consumer, because this mapping is explicit.
 */
export function toContractEvent(
  event: BookingEvent,
  booking: Exclude<BookingState, { status: 'none' }>,
  inventory: EventRecord,
  meta: EnvelopeMeta,
): EventEnvelope {
  const facts = {
    bookingId: booking.bookingId,
    eventId: booking.eventId,
    orgId: booking.orgId,
    userId: booking.userId,
    seats: booking.seats,
    eventName: inventory.name,
    eventStartsAt: inventory.startsAt.toISOString(),
    eventEndsAt: inventory.endsAt.toISOString(),
    eventVersion: inventory.catalogVersion,
  };
  const envelopeMeta = {
    source: 'booking' as const,
    orgId: booking.orgId,
    aggregate: { type: 'booking', id: booking.bookingId, version: meta.version },
    correlationId: meta.correlationId,
    ...(meta.causationId ? { causationId: meta.causationId } : {}),
  };
  switch (event.type) {
    case 'BookingCreated':
      return event.data.status === 'confirmed'
        ? buildEvent(
            'booking.booking_confirmed',
            { ...facts, seatNumbers: event.data.seatNumbers },
            envelopeMeta,
          )
        : buildEvent(
            'booking.booking_waitlisted',
            {
              ...facts,
              waitingNumber: event.data.waitingNumber ?? 0,
              waitlistPosition: meta.waitlistPosition ?? 1,
            },
            envelopeMeta,
          );
    case 'BookingCancelled':
      return buildEvent(
        'booking.booking_cancelled',
        {
          ...facts,
          previousStatus: event.data.previousStatus,
          seatNumbers: event.data.releasedSeats,
          reason: event.data.reason,
          cancelledBy: event.data.cancelledBy,
          ...(event.data.note === undefined ? {} : { note: event.data.note }),
        },
        envelopeMeta,
      );
    case 'BookingPromoted':
      return buildEvent(
        'booking.waitlist_promoted',
        {
          ...facts,
          seatNumbers: event.data.seatNumbers,
          waitingNumber: booking.waitingNumber ?? 0,
        },
        envelopeMeta,
      );
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}
