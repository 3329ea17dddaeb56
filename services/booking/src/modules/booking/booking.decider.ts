import { DomainError } from '@happening/service-kit';
import type { BookingCreated, BookingEvent, CancellationReason } from './booking.events.ts';
import { bookingNotFound } from './booking.policy.ts';

type Facts = Omit<BookingCreated['data'], 'status' | 'seatNumbers' | 'acceptedSeq'>;

/** A booking's state, folded from its stream; `version` counts the events applied. */
export type BookingState =
  | { status: 'none'; version: 0 }
  | (Facts & { status: 'confirmed'; seatNumbers: number[]; version: number })
  | (Facts & { status: 'waiting'; seatNumbers: []; version: number })
  | (Facts & {
      status: 'cancelled';
      seatNumbers: number[];
      cancelledReason: CancellationReason;
      version: number;
    });

export const initialState: BookingState = { status: 'none', version: 0 };

/** The inventory's atomic decision for a new booking (made in Redis, passed in). */
export type InventoryDecision =
  | { kind: 'confirmed'; seatNumbers: number[]; acceptedSeq: number }
  | { kind: 'waiting'; waitingNumber: number; acceptedSeq: number };

export type BookingCommand =
  | {
      type: 'CreateBooking';
      bookingId: string;
      eventId: string;
      orgId: string;
      userId: string;
      seats: number;
      decision: InventoryDecision;
    }
  | { type: 'CancelBooking'; reason: CancellationReason; cancelledBy: string; note?: string }
  | { type: 'PromoteBooking'; seatNumbers: number[] };

/** Decides which events a command produces on a booking; throws DomainError when it may not. */
export function decide(command: BookingCommand, state: BookingState): BookingEvent[] {
  switch (command.type) {
    case 'CreateBooking': {
      if (state.status !== 'none') {
        throw new DomainError('BOOKING_ALREADY_EXISTS', 409, 'The booking already exists.');
      }
      const { decision } = command;
      if (decision.kind === 'confirmed' && decision.seatNumbers.length !== command.seats) {
        throw new DomainError('BOOKING_SEATS_MISMATCH', 500, 'Seat assignment does not match.');
      }
      return [
        {
          type: 'BookingCreated',
          data: {
            bookingId: command.bookingId,
            eventId: command.eventId,
            orgId: command.orgId,
            userId: command.userId,
            seats: command.seats,
            status: decision.kind,
            seatNumbers: decision.kind === 'confirmed' ? [...decision.seatNumbers] : [],
            waitingNumber: decision.kind === 'waiting' ? decision.waitingNumber : null,
            acceptedSeq: decision.acceptedSeq,
          },
        },
      ];
    }
    case 'CancelBooking': {
      if (state.status === 'none') {
        throw bookingNotFound();
      }
      // Cancelling twice is harmless: nothing happens and no seat is released again.
      if (state.status === 'cancelled') return [];
      return [
        {
          type: 'BookingCancelled',
          data: {
            reason: command.reason,
            cancelledBy: command.cancelledBy,
            previousStatus: state.status,
            releasedSeats: state.status === 'confirmed' ? [...state.seatNumbers] : [],
            ...(command.note === undefined ? {} : { note: command.note }),
          },
        },
      ];
    }
    case 'PromoteBooking': {
      if (state.status !== 'waiting') {
        throw new DomainError('BOOKING_NOT_WAITING', 409, 'Only a waiting booking is promoted.');
      }
      // A waiting booking is never split: it gets all its seats or stays waiting.
      if (command.seatNumbers.length !== state.seats) {
        throw new DomainError('BOOKING_SEATS_MISMATCH', 500, 'Promotion must assign every seat.');
      }
      return [{ type: 'BookingPromoted', data: { seatNumbers: [...command.seatNumbers] } }];
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

/** Applies one event to a booking's state; pure, and the projections replay exactly this. */
export function evolve(state: BookingState, event: BookingEvent): BookingState {
  const version = state.version + 1;
  switch (event.type) {
    case 'BookingCreated': {
      const { status, seatNumbers, acceptedSeq: _seq, ...facts } = event.data;
      return status === 'confirmed'
        ? { ...facts, status, seatNumbers: [...seatNumbers], version }
        : { ...facts, status, seatNumbers: [], version };
    }
    case 'BookingCancelled': {
      if (state.status === 'none') return state;
      return { ...state, status: 'cancelled', cancelledReason: event.data.reason, version };
    }
    case 'BookingPromoted': {
      if (state.status === 'none') return state;
      return { ...state, status: 'confirmed', seatNumbers: [...event.data.seatNumbers], version };
    }
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

/** Folds a stream into its state. */
export function fold(events: readonly BookingEvent[]): BookingState {
  return events.reduce(evolve, initialState);
}
