/** Internal stream events of one booking; the outbox maps them to contract events explicitly. */
import type { CancellationReason } from '@happening/contracts';

export type { CancellationReason };

export type BookingCreated = {
  type: 'BookingCreated';
  data: {
    bookingId: string;
    eventId: string;
    orgId: string;
    userId: string;
    seats: number;
    status: 'confirmed' | 'waiting';
    seatNumbers: number[];
    waitingNumber: number | null;
    /** Order in which the inventory accepted the request (per event). */
    acceptedSeq: number;
  };
};

export type BookingCancelled = {
  type: 'BookingCancelled';
  data: {
    reason: CancellationReason;
    cancelledBy: string;
    previousStatus: 'confirmed' | 'waiting';
    releasedSeats: number[];
    note?: string;
  };
};

export type BookingPromoted = {
  type: 'BookingPromoted';
  data: { seatNumbers: number[] };
};

export type BookingEvent = BookingCreated | BookingCancelled | BookingPromoted;

/** The action column of booking_history for each stream event. */
export const HISTORY_ACTION = {
  BookingCreated: 'created',
  BookingCancelled: 'cancelled',
  BookingPromoted: 'promoted',
} as const satisfies Record<BookingEvent['type'], string>;

export type HistoryAction = (typeof HISTORY_ACTION)[BookingEvent['type']];

/** Reads a history row back into its stream event. */
export function eventFromHistory(action: HistoryAction, details: unknown): BookingEvent {
  switch (action) {
    case 'created':
      return { type: 'BookingCreated', data: details as BookingCreated['data'] };
    case 'cancelled':
      return { type: 'BookingCancelled', data: details as BookingCancelled['data'] };
    case 'promoted':
      return { type: 'BookingPromoted', data: details as BookingPromoted['data'] };
    default: {
      const unknownAction: never = action;
      throw new Error(`unknown history action ${String(unknownAction)}`);
    }
  }
}
