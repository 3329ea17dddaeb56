import { withFailingWrites } from '@happening/db/testing';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockEventExclusive } from '../src/modules/inventory/event-lock.ts';
import { type Booking, startBooking, type TestUser } from './harness.ts';
import { expectConsistent } from './invariants.ts';
import { advisoryLockAwaited, holdLock } from './locks.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

const cancel = (who: TestUser, bookingId: string) =>
  svc.call(who, 'POST', `/v1/bookings/${bookingId}/cancel`, {});

/** Delivers catalog's status change of the event to `to`, at catalog version `version`. */
const moveEvent = (
  event: { eventId: string; orgId: string },
  from: 'upcoming' | 'ongoing',
  to: 'ongoing' | 'completed',
  version: number,
) =>
  svc.deliver(
    'catalog.event_status_changed',
    { ...event, from, to },
    { type: 'event', id: event.eventId, version },
  );

/** What the booking's cancellations left: `cancelled` history entries and booking_cancelled events. */
async function cancellationsOf(bookingId: string) {
  const history = await svc.db
    .selectFrom('booking_history')
    .select('version')
    .where('booking_id', '=', bookingId)
    .where('action', '=', 'cancelled')
    .execute();
  // The outbox keeps every row it published, so this counts what was ever sent.
  const outbox = await svc.db
    .selectFrom('outbox')
    .select('message_id')
    .where('aggregate_id', '=', bookingId)
    .where('routing_key', '=', 'booking.booking_cancelled')
    .execute();
  return { history: history.length, events: outbox.length };
}

async function bookedId(who: TestUser, eventId: string): Promise<string> {
  const booked = await svc.book(who, eventId, 1);
  expect(booked.statusCode).toBe(201);
  return booked.json().id;
}

describe('cancelling a booking that is already cancelled', () => {
  it("answers the owner's retry after the start 200 with the booking as it is, recording nothing again", async () => {
    const event = await svc.openEvent({ totalSlots: 5 });
    const [owner, organizer, member, stranger] = await Promise.all([
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
    ]);
    await svc.join(organizer, event.orgId, 'organizer');
    await svc.join(member, event.orgId, 'user');
    const id = await bookedId(owner, event.eventId);
    const first = await cancel(owner, id);
    expect(first.statusCode).toBe(200);
    await eventually(
      () => svc.eventsOf('booking.booking_cancelled', (e) => e.data.bookingId === id).length === 1,
    );
    // The first answer was lost; by the time the owner retries, the event has started.
    await moveEvent(event, 'upcoming', 'ongoing', 3);

    const retried = await cancel(owner, id);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toEqual(first.json());
    expect(retried.json()).toMatchObject({ status: 'cancelled', cancelledReason: 'by_owner' });
    const byStaff = await cancel(organizer, id);
    expect(byStaff.statusCode, byStaff.body).toBe(200);
    expect(byStaff.json()).toEqual(first.json());
    // Those who may not see the booking still do not learn it exists.
    for (const outsider of [stranger, member]) {
      const refused = await cancel(outsider, id);
      expect(refused.statusCode).toBe(404);
      expect(refused.json().code).toBe('BOOKING_NOT_FOUND');
    }
    expect(await cancellationsOf(id)).toEqual({ history: 1, events: 1 });
    const history = await svc.call(owner, 'GET', `/v1/bookings/${id}/history`);
    expect(history.json().items.map((h: { action: string }) => h.action)).toEqual([
      'created',
      'cancelled',
    ]);
  });

  it("answers the owner 200 for a booking the event's cancellation cancelled", async () => {
    const event = await svc.openEvent({ totalSlots: 5 });
    const owner = await svc.user();
    const id = await bookedId(owner, event.eventId);
    await svc.deliver(
      'catalog.event_cancelled',
      {
        eventId: event.eventId,
        orgId: event.orgId,
        name: event.snapshot.name,
        startsAt: event.snapshot.startsAt,
        reason: 'venue flooded',
        cancelledBy: 'org-admin',
      },
      { type: 'event', id: event.eventId, version: 3 },
    );
    const answer = await cancel(owner, id);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({
      status: 'cancelled',
      cancelledReason: 'event_cancelled',
    });
    expect(await cancellationsOf(id)).toEqual({ history: 1, events: 1 });
  });

  it("answers staff's retry after completion 200, and the owner's too", async () => {
    const event = await svc.openEvent({ totalSlots: 5 });
    const [owner, orgAdmin, stranger] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.join(orgAdmin, event.orgId, 'orgAdmin');
    const id = await bookedId(owner, event.eventId);
    await moveEvent(event, 'upcoming', 'ongoing', 3);
    const first = await cancel(orgAdmin, id);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ status: 'cancelled', cancelledReason: 'by_organizer' });
    await moveEvent(event, 'ongoing', 'completed', 4);

    for (const who of [orgAdmin, owner]) {
      const retried = await cancel(who, id);
      expect(retried.statusCode, retried.body).toBe(200);
      expect(retried.json()).toEqual(first.json());
    }
    expect((await cancel(stranger, id)).statusCode).toBe(404);
    expect(await cancellationsOf(id)).toEqual({ history: 1, events: 1 });
  });

  it('answers the same when the cancellation is made alone, behind a rebuild', async () => {
    const event = await svc.openEvent({ totalSlots: 5 });
    const [owner, stranger] = await Promise.all([svc.user(), svc.user()]);
    const id = await bookedId(owner, event.eventId);
    expect((await cancel(owner, id)).statusCode).toBe(200);
    await moveEvent(event, 'upcoming', 'ongoing', 3);

    // A rebuild holds the event: the batch cannot take the event lock and hands the
    // cancellation to be made alone, which waits for the rebuild to end.
    const rebuild = await holdLock(svc.db, (trx) => lockEventExclusive(trx, event.eventId));
    let retried: ReturnType<typeof cancel> | undefined;
    try {
      // Whoever may not see the booking hears so at once, without waiting for the rebuild.
      expect((await cancel(stranger, id)).statusCode).toBe(404);
      retried = cancel(owner, id);
      await advisoryLockAwaited(svc.db);
    } finally {
      await rebuild.release();
    }
    const answer = await retried;
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ status: 'cancelled', cancelledReason: 'by_owner' });
    expect(await cancellationsOf(id)).toEqual({ history: 1, events: 1 });
  });
});

describe('a cancellation Postgres rolls back for a concurrent transaction', () => {
  it('answers 503 TRANSIENT_CONFLICT with Retry-After, and its retry cancels', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [owner, waiter] = await Promise.all([svc.user(), svc.user()]);
    const booking = (await svc.book(owner, eventId, 1)).json();
    const waiting = (await svc.book(waiter, eventId, 1)).json();
    // Every write of its cancellation ends as a deadlock's loser does (batched, then alone).
    const refused = await withFailingWrites(
      svc.db,
      {
        table: 'booking_history',
        on: 'INSERT',
        when: sql`NEW.booking_id = ${sql.lit(booking.id)} AND NEW.action = 'cancelled'`,
        sqlstate: '40P01',
      },
      () => cancel(owner, booking.id),
    );
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'TRANSIENT_CONFLICT' });
    expect(await cancellationsOf(booking.id)).toEqual({ history: 0, events: 0 });

    const retried = await cancel(owner, booking.id);
    expect(retried.json()).toMatchObject({ status: 'cancelled' });
    await eventually(
      async () =>
        (await svc.call(waiter, 'GET', `/v1/bookings/${waiting.id}`)).json().status === 'confirmed',
      { what: 'the waiting booking promoted into the freed seat' },
    );
    await expectConsistent(svc, eventId, 1, 'fifo');
  });
});
