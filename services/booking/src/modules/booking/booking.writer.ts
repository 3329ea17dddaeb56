import { enqueueEvents } from '@happening/db';
import type { Transaction } from 'kysely';
import type { BookingDb } from '../../db/database.ts';
import type { EventRecord } from '../inventory/event-inventory.repository.ts';
import { type BookingState, evolve, initialState } from './booking.decider.ts';
import type { BookingEvent } from './booking.events.ts';
import { type EnvelopeMeta, toContractEvent } from './booking.outbox.ts';
import { appendAndProject, appendCreated } from './booking.projection.ts';

/**
 * Appends decided events to a booking's stream, updates the projections and writes one outbox
 * row per event, all in the caller's transaction. Returns the new state.
 */
export async function writeStream(
  trx: Transaction<BookingDb>,
  input: {
    bookingId: string;
    event: EventRecord;
    state: BookingState;
    events: readonly BookingEvent[];
    meta: Omit<EnvelopeMeta, 'version'>;
  },
): Promise<BookingState> {
  const { bookingId, event, events, meta } = input;
  await appendAndProject(
    trx,
    { bookingId, eventId: event.eventId, version: input.state.version },
    events,
  );
  let state = input.state;
  const envelopes = [];
  for (const domainEvent of events) {
    state = evolve(state, domainEvent);
    if (state.status === 'none') throw new Error('a written stream cannot be empty');
    envelopes.push(toContractEvent(domainEvent, state, event, { ...meta, version: state.version }));
  }
  await enqueueEvents(trx, envelopes);
  return state;
}

/**
 * Writes a new booking's stream (one `BookingCreated`), its projections and its outbox event in
 * one statement. Returns the new state and the row's timestamps.
 */
export async function writeCreated(
  trx: Transaction<BookingDb>,
  input: {
    bookingId: string;
    event: EventRecord;
    created: Extract<BookingEvent, { type: 'BookingCreated' }>;
    meta: Omit<EnvelopeMeta, 'version'>;
  },
): Promise<{ state: BookingState; createdAt: Date; updatedAt: Date }> {
  const state = evolve(initialState, input.created);
  if (state.status === 'none') throw new Error('a written stream cannot be empty');
  const envelope = toContractEvent(input.created, state, input.event, {
    ...input.meta,
    version: 1,
  });
  const times = await appendCreated(trx, input.bookingId, input.created, [envelope]);
  return { state, ...times };
}
