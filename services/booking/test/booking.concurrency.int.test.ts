import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingDb } from '../src/db/database.ts';
import {
  projectionsFromHistory,
  rebuildProjections,
} from '../src/modules/booking/booking.rebuild.ts';
import { lockEventExclusive } from '../src/modules/inventory/event-lock.ts';
import { withFailingInserts } from './failing-inserts.ts';
import { type Booking, startBooking } from './harness.ts';
import { expectConsistent } from './invariants.ts';
import { advisoryLockAwaited, holdLock } from './locks.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

/** Takes the event's exclusive lock as a rebuild does, running `whileHeld` under it once released. */
const holdEventLikeARebuild = (
  eventId: string,
  whileHeld?: (trx: Transaction<BookingDb>) => Promise<unknown>,
) => holdLock(svc.db, (trx) => lockEventExclusive(trx, eventId), whileHeld);

/** A booking's status as Postgres holds it. */
async function statusOf(bookingId: string) {
  const row = await svc.db
    .selectFrom('bookings')
    .select('status')
    .where('id', '=', bookingId)
    .executeTakeFirstOrThrow();
  return row.status;
}

async function acceptedSeqs(eventId: string) {
  const rows = await svc.db
    .selectFrom('booking_history')
    .select(['booking_id', sql<number>`(details->>'acceptedSeq')::int`.as('seq')])
    .where('event_id', '=', eventId)
    .where('action', '=', 'created')
    .execute();
  return new Map(rows.map((r) => [r.booking_id, r.seq]));
}

/** A booking Postgres holds and Redis never heard of: a write Redis lost, as after a failover. */
async function insertLostBooking(
  eventId: string,
  orgId: string,
  booking:
    | { status: 'confirmed'; seatNumbers: number[] }
    | { status: 'waiting'; waitingNumber: number },
) {
  const id = randomUUID();
  const userId = randomUUID();
  const seatNumbers = booking.status === 'confirmed' ? booking.seatNumbers : [];
  const waitingNumber = booking.status === 'waiting' ? booking.waitingNumber : null;
  const seats = Math.max(seatNumbers.length, 1);
  await svc.db.transaction().execute(async (trx) => {
    const details = {
      bookingId: id,
      eventId,
      orgId,
      userId,
      seats,
      status: booking.status,
      seatNumbers,
      waitingNumber,
      acceptedSeq: 1,
    };
    await trx
      .insertInto('booking_history')
      .values({
        booking_id: id,
        event_id: eventId,
        version: 1,
        action: 'created',
        details: JSON.stringify(details),
      })
      .execute();
    await trx
      .insertInto('bookings')
      .values({
        id,
        event_id: eventId,
        org_id: orgId,
        user_id: userId,
        seats,
        status: booking.status,
        waiting_number: waitingNumber,
        cancelled_reason: null,
        version: 1,
      })
      .execute();
    for (const seatNo of seatNumbers) {
      await trx
        .insertInto('booking_seats')
        .values({ booking_id: id, event_id: eventId, seat_no: seatNo, status: 'booked' })
        .execute();
    }
  });
}

describe('booking under concurrency', () => {
  it('500 people booking 1–4 seats at once on 100 seats: nothing oversold, FCFS kept, every 201 stored', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 100 });
    const users = await Promise.all(Array.from({ length: 500 }, () => svc.user()));
    const responses = await Promise.all(users.map((u, i) => svc.book(u, eventId, (i % 4) + 1)));
    expect(responses.every((r) => r.statusCode === 201)).toBe(true);

    const { bookings, seats } = await expectConsistent(svc, eventId, 100, 'fifo');
    const ids = new Set(bookings.map((b) => b.id));
    for (const r of responses) expect(ids.has(r.json().id)).toBe(true);
    const answeredSeats = responses.flatMap((r) => r.json().seatNumbers as number[]);
    expect(new Set(answeredSeats).size).toBe(answeredSeats.length);
    expect(seats.length).toBeGreaterThan(96); // fifo fills until a request does not fit

    // waiting numbers follow acceptance order, and under fifo nobody was confirmed after a wait
    const seqs = await acceptedSeqs(eventId);
    const waiting = bookings
      .filter((b) => b.status === 'waiting')
      .sort((a, b) => seqs.get(a.id)! - seqs.get(b.id)!);
    expect(waiting.map((w) => w.waiting_number)).toEqual(waiting.map((_, i) => i + 1));
    const lastConfirmed = Math.max(
      ...bookings.filter((b) => b.status === 'confirmed').map((b) => seqs.get(b.id)!),
    );
    expect(lastConfirmed).toBeLessThan(seqs.get(waiting[0]!.id)!);
  });

  for (const policy of ['fifo', 'first_fit'] as const) {
    it(`${policy}: cancellations racing new bookings promote exactly per policy and free no seat twice`, async () => {
      const { eventId } = await svc.openEvent({ totalSlots: 40, waitlistPolicy: policy });
      const first = await Promise.all(Array.from({ length: 40 }, () => svc.user()));
      const created = await Promise.all(first.map((u, i) => svc.book(u, eventId, (i % 4) + 1)));
      const byUser = first.map((u, i) => ({ user: u, id: created[i]!.json().id as string }));
      const cancellers = byUser.filter((_, i) => i % 3 === 0);
      const newcomers = await Promise.all(Array.from({ length: 30 }, () => svc.user()));
      const results = await Promise.all([
        ...cancellers.map((c) => svc.call(c.user, 'POST', `/v1/bookings/${c.id}/cancel`, {})),
        // the same cancellations again, racing themselves
        ...cancellers.map((c) => svc.call(c.user, 'POST', `/v1/bookings/${c.id}/cancel`, {})),
        ...newcomers.map((u, i) => svc.book(u, eventId, (i % 3) + 1)),
      ]);
      expect(results.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);

      const { bookings } = await expectConsistent(svc, eventId, 40, policy);
      const history = await svc.db
        .selectFrom('booking_history')
        .select(['booking_id', 'action'])
        .where('event_id', '=', eventId)
        .execute();
      for (const c of cancellers) {
        expect(
          history.filter((h) => h.booking_id === c.id && h.action === 'cancelled'),
        ).toHaveLength(1);
      }
      const promoted = new Set(
        history.filter((h) => h.action === 'promoted').map((h) => h.booking_id),
      );
      expect(promoted.size).toBeGreaterThan(0);
      if (policy === 'fifo') {
        // fifo promotes only heads: every promoted booking was ahead of everyone still waiting
        const stillWaiting = bookings
          .filter((b) => b.status === 'waiting')
          .map((b) => b.waiting_number!);
        const promotedNumbers = bookings
          .filter((b) => promoted.has(b.id))
          .map((b) => b.waiting_number!);
        if (stillWaiting.length > 0)
          expect(Math.max(...promotedNumbers)).toBeLessThan(Math.min(...stillWaiting));
      }
    });
  }

  it('Redis flushed in the middle of a run: reconciled, invariants hold, nothing oversold', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 100 });
    const users = await Promise.all(Array.from({ length: 200 }, () => svc.user()));
    const firstHalf = await Promise.all(
      users.slice(0, 60).map((u, i) => svc.book(u, eventId, (i % 4) + 1)),
    );
    const rest = Promise.all(users.slice(60).map((u, i) => svc.book(u, eventId, (i % 4) + 1)));
    await svc.redis.flushdb();
    const secondHalf = await rest;
    const responses = [...firstHalf, ...secondHalf];
    for (const r of responses) expect([201, 503]).toContain(r.statusCode);
    expect(responses.filter((r) => r.statusCode === 201).length).toBeGreaterThan(100);
    // the next request finds everything in place (or rebuilds it) and all agree
    await svc.call(users[0], 'GET', `/v1/events/${eventId}/availability`);
    const { bookings } = await expectConsistent(svc, eventId, 100, 'fifo');
    const ids = new Set(bookings.map((b) => b.id));
    for (const r of responses.filter((r) => r.statusCode === 201))
      expect(ids.has(r.json().id)).toBe(true);
    const numbers = bookings.flatMap((b) => (b.waiting_number ? [b.waiting_number] : []));
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('a booking waits while a rebuild holds the event, then decides on what the rebuild committed', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 10 });
    const user = await svc.user();
    const rebuild = await holdEventLikeARebuild(eventId, (trx) =>
      trx
        .updateTable('event_inventory')
        .set({ status: 'ongoing' })
        .where('event_id', '=', eventId)
        .execute(),
    );
    const pending = svc.book(user, eventId, 1);
    await advisoryLockAwaited(svc.db, 'ShareLock');
    await rebuild.release();
    const response = await pending;
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('EVENT_NOT_OPEN');
    expect(
      await svc.db.selectFrom('bookings').where('event_id', '=', eventId).select('id').execute(),
    ).toEqual([]);
  });

  it('a cancellation waits while a rebuild holds the event, then cancels and promotes', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [owner, next] = await Promise.all([svc.user(), svc.user()]);
    const first = await svc.book(owner, eventId, 1);
    const waiting = await svc.book(next, eventId, 1);
    expect(waiting.json().status).toBe('waiting');
    const rebuild = await holdEventLikeARebuild(eventId);
    const pending = svc.call(owner, 'POST', `/v1/bookings/${first.json().id}/cancel`, {});
    await advisoryLockAwaited(svc.db, 'ShareLock');
    await rebuild.release();
    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe('cancelled');
    expect(await statusOf(waiting.json().id)).toBe('confirmed');
    await expectConsistent(svc, eventId, 1, 'fifo');
  });

  it('while a rebuild holds the event, whoever may not know it or the booking hears 404 at once', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 4, visibility: 'members' });
    const [member, stranger] = await Promise.all([svc.user(), svc.user()]);
    await svc.join(member, orgId, 'user');
    const booked = await svc.book(member, eventId, 1);
    expect(booked.statusCode).toBe(201);
    const rebuild = await holdEventLikeARebuild(eventId);
    try {
      // Not a 503 after waiting for the rebuild: that would tell a stranger the event exists.
      const book = await svc.book(stranger, eventId, 1);
      expect(book.statusCode).toBe(404);
      expect(book.json().code).toBe('EVENT_NOT_FOUND');
      const cancel = await svc.call(
        stranger,
        'POST',
        `/v1/bookings/${booked.json().id}/cancel`,
        {},
      );
      expect(cancel.statusCode).toBe(404);
      expect(cancel.json().code).toBe('BOOKING_NOT_FOUND');
    } finally {
      await rebuild.release();
    }
  });

  it('a Postgres failure after the Lua decision compensates Redis before answering', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.book(a, eventId, 2);
    const before = (await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json();
    await withFailingInserts(svc.db, 'booking_history', undefined, async () => {
      const failed = await svc.book(b, eventId, 1);
      expect(failed.statusCode).toBe(500);
      const failedWaiting = await svc.book(c, eventId, 3);
      expect(failedWaiting.statusCode).toBe(500);
    });
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual(before);
    await expectConsistent(svc, eventId, 3, 'fifo');
    // the seat the failed request had taken is free again for the next one
    expect((await svc.book(b, eventId, 1)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [3],
    });
  });

  it('a cancellation whose promotion fails to write records nothing and rebuilds Redis from Postgres', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 2 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    const first = await svc.book(a, eventId, 2);
    const waiting = await svc.book(b, eventId, 2);
    expect(waiting.json().status).toBe('waiting');
    const before = (await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json();
    await withFailingInserts(svc.db, 'booking_history', sql`NEW.action = 'promoted'`, async () => {
      const failed = await svc.call(a, 'POST', `/v1/bookings/${first.json().id}/cancel`, {});
      expect(failed.statusCode).toBe(500);
    });
    // the cancelled entry went with the promotion: one statement, one transaction
    expect(
      await svc.db
        .selectFrom('booking_history')
        .select('action')
        .where('event_id', '=', eventId)
        .orderBy('position')
        .execute(),
    ).toEqual([{ action: 'created' }, { action: 'created' }]);
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual(before);
    await expectConsistent(svc, eventId, 2, 'fifo');
    const again = await svc.call(a, 'POST', `/v1/bookings/${first.json().id}/cancel`, {});
    expect(again.statusCode).toBe(200);
    expect(await statusOf(waiting.json().id)).toBe('confirmed');
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('a seat Postgres holds but Redis lost is never handed out twice: compensate, rebuild, retry', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 5 });
    // Postgres holds seat 1 (a write Redis lost, as after a failover)
    await insertLostBooking(eventId, orgId, { status: 'confirmed', seatNumbers: [1] });
    const a = await svc.user();
    const response = await svc.book(a, eventId, 1);
    expect(response.statusCode).toBe(201);
    expect(response.json().seatNumbers).toEqual([2]);
    await expectConsistent(svc, eventId, 5, 'fifo');
  });

  it('a waiting number Postgres holds but Redis lost is not handed out twice: rebuild, retry', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 1 });
    expect((await svc.book(await svc.user(), eventId, 1)).json().status).toBe('confirmed');
    // Postgres holds waiting numbers 1 and 2 (writes Redis lost, as after a failover), so both
    // the batch's number and the one the booking takes alone after it clash.
    for (const waitingNumber of [1, 2]) {
      await insertLostBooking(eventId, orgId, { status: 'waiting', waitingNumber });
    }
    const response = await svc.book(await svc.user(), eventId, 1);
    expect(response.statusCode, response.body).toBe(201);
    // Behind the two Redis had lost, which the rebuild put back in line.
    expect(response.json()).toMatchObject({
      status: 'waiting',
      waitingNumber: 3,
      waitlistPosition: 3,
    });
    await expectConsistent(svc, eventId, 1, 'fifo');
  });

  it('rebuilding bookings and booking_seats from booking_history reproduces the live projections', async () => {
    // A busy run of its own (whatever ran before in this file): a stampede, then cancellations
    // racing newcomers, so the history holds created, cancelled and promoted entries.
    const { eventId } = await svc.openEvent({ totalSlots: 30 });
    const crowd = await Promise.all(Array.from({ length: 200 }, () => svc.user()));
    const booked = await Promise.all(crowd.map((u, i) => svc.book(u, eventId, (i % 4) + 1)));
    const newcomers = await Promise.all(Array.from({ length: 40 }, () => svc.user()));
    const churn = await Promise.all([
      ...crowd
        .map((user, i) => ({ user, id: booked[i]!.json().id as string }))
        .filter((_, i) => i % 3 === 0)
        .map(({ user, id }) => svc.call(user, 'POST', `/v1/bookings/${id}/cancel`, {})),
      ...newcomers.map((u, i) => svc.book(u, eventId, (i % 3) + 1)),
    ]);
    expect(churn.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    const actions = await svc.db
      .selectFrom('booking_history')
      .select('action')
      .distinct()
      .where('event_id', '=', eventId)
      .execute();
    expect(actions.map((a) => a.action).sort()).toEqual(['cancelled', 'created', 'promoted']);

    const live = {
      bookings: await svc.db.selectFrom('bookings').selectAll().orderBy('id').execute(),
      seats: await svc.db
        .selectFrom('booking_seats')
        .selectAll()
        .orderBy('booking_id')
        .orderBy('seat_no')
        .execute(),
    };
    expect(live.bookings.length).toBeGreaterThanOrEqual(240);
    const sortRows = (p: Awaited<ReturnType<typeof projectionsFromHistory>>) => ({
      bookings: [...p.bookings].sort((x, y) => x.id.localeCompare(y.id)),
      seats: [...p.seats].sort(
        (x, y) => x.booking_id.localeCompare(y.booking_id) || x.seat_no - y.seat_no,
      ),
    });
    expect(sortRows(await projectionsFromHistory(svc.db))).toEqual(sortRows(live));
    await rebuildProjections(svc.db);
    const rebuilt = {
      bookings: await svc.db.selectFrom('bookings').selectAll().orderBy('id').execute(),
      seats: await svc.db
        .selectFrom('booking_seats')
        .selectAll()
        .orderBy('booking_id')
        .orderBy('seat_no')
        .execute(),
    };
    expect(rebuilt).toEqual(live);
  });
});
