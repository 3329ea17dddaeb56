import { type Kysely, sql } from 'kysely';
import type { BookingDb } from '../../db/database.ts';
import type { PipelinedTransaction } from '../../db/pipelined.transaction.ts';
import type { EventRecord } from '../inventory/event-inventory.repository.ts';
import { type BookingState, evolve, initialState } from './booking.decider.ts';
import type { BookingEvent } from './booking.events.ts';
import { type EnvelopeMeta, toContractEvent } from './booking.outbox.ts';
import {
  appendCreated,
  appendEvents,
  appendEventsQuery,
  type HistoryEntry,
} from './booking.projection.ts';

/** Decided events for one booking's stream, after the state they were decided on. */
export interface StreamWrite {
  bookingId: string;
  state: BookingState;
  events: readonly BookingEvent[];
  /** Envelope metadata of this write's events, when not the call's. */
  meta?: Omit<EnvelopeMeta, 'version'> | undefined;
}

/**
 * Appends decided events to several bookings' streams, updates the projections and writes one
 * outbox row per event, in the caller's transaction and in one statement. Writes apply in order
 * (a seat the first releases may be booked by a later one). Returns the new states.
 */
export async function writeStreams(
  trx: Kysely<BookingDb>,
  event: EventRecord,
  writes: readonly StreamWrite[],
  meta: Omit<EnvelopeMeta, 'version'>,
): Promise<BookingState[]> {
  const { entries, envelopes, states } = streamEntries(event, writes, meta);
  await appendEvents(trx, entries, envelopes);
  return states;
}

/**
 * `writeStreams` as the last statement of a pipelined transaction: COMMIT goes out with it.
 * `writes` holds at least one event (a transaction with nothing to write commits itself).
 */
export async function commitStreams(
  tx: PipelinedTransaction,
  event: EventRecord,
  writes: readonly StreamWrite[],
  meta: Omit<EnvelopeMeta, 'version'>,
): Promise<BookingState[]> {
  const { entries, envelopes, states } = streamEntries(event, writes, meta);
  await tx.commitWith(appendEventsQuery(tx.db, entries, envelopes));
  return states;
}

/** The history entries and outbox envelopes of decided writes, and the states they lead to. */
function streamEntries(
  event: EventRecord,
  writes: readonly StreamWrite[],
  meta: Omit<EnvelopeMeta, 'version'>,
) {
  const entries: HistoryEntry[] = [];
  const envelopes = [];
  const states = [];
  for (const write of writes) {
    let state = write.state;
    for (const domainEvent of write.events) {
      state = evolve(state, domainEvent);
      if (state.status === 'none') throw new Error('a written stream cannot be empty');
      entries.push({
        bookingId: write.bookingId,
        eventId: event.eventId,
        version: state.version,
        event: domainEvent,
      });
      envelopes.push(
        toContractEvent(domainEvent, state, event, {
          ...(write.meta ?? meta),
          version: state.version,
        }),
      );
    }
    states.push(state);
  }
  return { entries, envelopes, states };
}

/**
 * Before a cancellation transaction's Redis releases (`release`): records its token as the
 * event's last release (the keys keep it too; the next cancellation checks they agree, see
 * `RELEASE_LUA`), and marks the booked seats of the bookings it cancels released. A booking Redis
 * then hands one of those seats meanwhile waits at the seat index for this transaction and books
 * it once it commits, instead of colliding with a row still booked, which would take its seat
 * for one Redis lost and rebuild the event. One statement; rolled back with the transaction, the
 * token too; the stream's later `cancelled` entry finds the seats released already.
 */
export async function releaseSeatsOf(
  trx: Kysely<BookingDb>,
  release: { eventId: string; token: string },
  cancelled: readonly { bookingId: string; state: BookingState }[],
): Promise<void> {
  const holding = cancelled
    .filter(({ state }) => state.status === 'confirmed')
    .map(({ bookingId }) => bookingId);
  await sql`
    WITH last_release AS (
      UPDATE event_inventory SET last_release = ${release.token}
      WHERE event_id = ${release.eventId}
    )
    UPDATE booking_seats SET status = 'released'
    WHERE booking_id = ANY (${sql.val(holding)}::uuid[]) AND status = 'booked'`.execute(trx);
}

/** A decided new booking, to be written by `writeCreated`. */
export interface CreatedWrite {
  bookingId: string;
  event: EventRecord;
  created: Extract<BookingEvent, { type: 'BookingCreated' }>;
  meta: Omit<EnvelopeMeta, 'version'>;
}

/**
 * Writes new bookings' streams (one `BookingCreated` each), their projections and their outbox
 * events in one statement, committed with it. Returns each one's state and row timestamps, in
 * the order given.
 */
export async function writeCreated(
  tx: PipelinedTransaction,
  writes: readonly CreatedWrite[],
): Promise<{ state: BookingState; createdAt: Date; updatedAt: Date }[]> {
  const states = writes.map((write) => {
    const state = evolve(initialState, write.created);
    if (state.status === 'none') throw new Error('a written stream cannot be empty');
    return state;
  });
  const envelopes = writes.map((write, i) =>
    toContractEvent(write.created, states[i] as (typeof states)[number], write.event, {
      ...write.meta,
      version: 1,
    }),
  );
  const times = await appendCreated(tx, writes, envelopes);
  return times.map((time, i) => ({ state: states[i] as (typeof states)[number], ...time }));
}
