import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFailingInserts } from './failing-inserts.ts';
import { type Booking, startBooking, type TestUser } from './harness.ts';
import { expectConsistent } from './invariants.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

/**
 * Books for `doomed` through HTTP while every insert of their booking fails, first waiting at a
 * gate: `whileGated` runs once their Redis decision is taken and their write waits, and the write
 * fails when it returns. Answers the doomed request.
 */
async function withDoomedBooking(
  eventId: string,
  doomed: TestUser,
  whileGated: () => Promise<unknown>,
) {
  const gate = Math.floor(Math.random() * 1_000_000_000) + 1;
  return svc.db.connection().execute(async (session) => {
    await sql`SELECT pg_advisory_lock(${gate})`.execute(session);
    try {
      return await withFailingInserts(
        svc.db,
        'bookings',
        sql`NEW.user_id = ${sql.lit(doomed.sub)}`,
        async () => {
          const answer = svc.book(doomed, eventId, 1);
          await eventually(async () => {
            const { rows } = await sql<{ n: string }>`
              SELECT count(*) AS n FROM pg_locks
              WHERE locktype = 'advisory' AND NOT granted AND objid = ${gate}`.execute(session);
            return Number(rows[0]?.n) > 0;
          });
          await whileGated();
          await sql`SELECT pg_advisory_unlock(${gate})`.execute(session);
          return answer;
        },
        gate,
      );
    } finally {
      await sql`SELECT pg_advisory_unlock_all()`.execute(session);
    }
  });
}

/** The availability figures the service enqueued for the event, oldest first. */
async function enqueuedAvailability(eventId: string) {
  const rows = await svc.db
    .selectFrom('outbox')
    .select('payload')
    .where('routing_key', '=', 'booking.availability_changed')
    .orderBy('id')
    .execute();
  return rows
    .map((row) => (row.payload as { data: { eventId: string; waitlistLength: number } }).data)
    .filter((data) => data.eventId === eventId);
}

describe('giving back the decision of a booking that did not commit', () => {
  it('announces the availability its promotions changed', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [doomed, waiter] = await Promise.all([svc.user(), svc.user()]);
    let waiting: { id: string; status: string } | undefined;
    await withDoomedBooking(eventId, doomed, async () => {
      // The doomed decision holds the only seat: the waiter waits, and that is announced.
      waiting = (await svc.book(waiter, eventId, 1)).json();
      expect(waiting?.status).toBe('waiting');
      await eventually(
        async () =>
          (await enqueuedAvailability(eventId)).some((figures) => figures.waitlistLength === 1),
        { what: 'the waitlist of one announced' },
      );
    });
    // The give-back returns the seat and promotes the waiter.
    await eventually(
      () =>
        svc.eventsOf('booking.waitlist_promoted', (e) => e.data.bookingId === waiting?.id)
          .length === 1,
      { what: 'the waiter promoted' },
    );
    const announced = await eventually(
      () =>
        svc
          .eventsOf('booking.availability_changed', (e) => e.data.eventId === eventId)
          .find((e) => e.data.waitlistLength === 0 && e.data.availableSlots === 0),
      { what: 'the emptied waitlist announced' },
    );
    expect(announced.data).toMatchObject({ totalSlots: 1, confirmedSeats: 1 });
    await expectConsistent(svc, eventId, 1, 'fifo');
  });
});
