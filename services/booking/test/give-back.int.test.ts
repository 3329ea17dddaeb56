import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import { withFailingInserts, withGate } from './failing-inserts.ts';
import { type Booking, releaseNotRecorded, startBooking, type TestUser } from './harness.ts';
import { expectConsistent } from './invariants.ts';
import { advisoryLockAwaited } from './locks.ts';

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
  return withGate(svc.db, (gate) =>
    withFailingInserts(
      svc.db,
      'bookings',
      sql`NEW.user_id = ${sql.lit(doomed.sub)}`,
      async () => {
        const answer = svc.book(doomed, eventId, 1);
        await gate.reached();
        await whileGated();
        await gate.open();
        return answer;
      },
      gate.key,
    ),
  );
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
    .map(
      (row) =>
        (
          row.payload as {
            data: { eventId: string; waitlistLength: number; availableSlots: number };
          }
        ).data,
    )
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

  it('announces the seat it gives back when nobody waits for it', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [doomed, other] = await Promise.all([svc.user(), svc.user()]);
    await withDoomedBooking(eventId, doomed, async () => {
      // The doomed decision holds the only seat: an announcement now shows it taken.
      svc.ctx.availability.touch(eventId);
      await eventually(
        async () =>
          (await enqueuedAvailability(eventId)).some((figures) => figures.availableSlots === 0),
        { what: 'the seat announced taken' },
      );
    });
    const announced = await eventually(
      async () => {
        const all = await enqueuedAvailability(eventId);
        const last = all[all.length - 1];
        return last?.availableSlots === 1 ? last : undefined;
      },
      { what: 'the seat announced free again' },
    );
    expect(announced).toMatchObject({ availableSlots: 1, waitlistLength: 0 });
    expect((await svc.book(other, eventId, 1)).json()).toMatchObject({ status: 'confirmed' });
  });

  it('gives nothing back once a rebuild replaced the keys the decision was taken on', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 1 });
    const [doomed, waiter, admin] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.join(admin, orgId, 'orgAdmin');
    let reconcile: ReturnType<typeof svc.call> | undefined;
    const inventory = svc.ctx.inventory;
    const compensate = inventory.compensate;
    // The give-back runs after its failed transaction, outside the event lock: here it comes
    // after the rebuild that was waiting for that transaction, an order it may always meet.
    inventory.compensate = async (...args) => {
      await reconcile;
      return compensate.apply(inventory, args);
    };
    try {
      let waiting: { id: string; status: string } | undefined;
      const answer = await withDoomedBooking(eventId, doomed, async () => {
        waiting = (await svc.book(waiter, eventId, 1)).json();
        expect(waiting?.status).toBe('waiting');
        reconcile = svc.call(admin, 'POST', `/v1/events/${eventId}/reconcile`);
        await advisoryLockAwaited(svc.db, 'ExclusiveLock');
      });
      expect(answer.statusCode).toBe(500);
      // The rebuild found the doomed seat free in Postgres and gave it to the waiter.
      expect((await reconcile)?.json()).toEqual({ eventId, promoted: 1 });
      expect((await svc.call(waiter, 'GET', `/v1/bookings/${waiting?.id}`)).json()).toMatchObject({
        status: 'confirmed',
        seatNumbers: [1],
      });
      // Before any further rebuild: no seat is both free in Redis and booked in Postgres.
      const free = (await svc.redis.zrange(inventoryKeys(eventId).free, 0, -1)).map(Number);
      const booked = await svc.db
        .selectFrom('booking_seats')
        .select('seat_no')
        .where('event_id', '=', eventId)
        .where('status', '=', 'booked')
        .execute();
      expect(booked.map((b) => b.seat_no)).toEqual([1]);
      expect(free).toEqual([]);
      await expectConsistent(svc, eventId, 1, 'fifo');
    } finally {
      inventory.compensate = compensate;
    }
  });
  it('records none of its promotions once a rebuild replaced the keys they were made on', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 2 });
    const [holder, doomed, waiter] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    expect((await svc.book(holder, eventId, 1)).json()).toMatchObject({ seatNumbers: [1] });
    const inventory = svc.ctx.inventory;
    const compensate = inventory.compensate;
    // Between the give-back (which promotes the waiter into the doomed seat) and the recording of
    // that promotion, the capacity drops to the one seat the holder has: its rebuild, from
    // Postgres, leaves the waiter waiting.
    inventory.compensate = async (...args) => {
      const released = await compensate.apply(inventory, args);
      await svc.publish(
        'catalog.event_capacity_changed',
        { eventId, orgId, previousTotalSlots: 2, totalSlots: 1 },
        { type: 'event', id: eventId, version: 3 },
      );
      await eventually(
        async () => (await inventory.availability(eventId, null))?.totalSlots === 1,
        {
          what: 'the lowered capacity rebuilt into Redis',
        },
      );
      return released;
    };
    try {
      let waiting: { id: string; status: string } | undefined;
      const answer = await withDoomedBooking(eventId, doomed, async () => {
        waiting = (await svc.book(waiter, eventId, 1)).json();
        expect(waiting?.status).toBe('waiting');
      });
      expect(answer.statusCode).toBe(500);
      await expectConsistent(svc, eventId, 1, 'fifo');
      expect((await svc.call(waiter, 'GET', `/v1/bookings/${waiting?.id}`)).json()).toMatchObject({
        status: 'waiting',
      });
      expect(svc.eventsOf('booking.waitlist_promoted', (e) => e.data.eventId === eventId)).toEqual(
        [],
      );
    } finally {
      inventory.compensate = compensate;
    }
  });

  it('records none of its promotions on keys Postgres records untrusted', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 2 });
    const [holder, doomed, first, second] = await Promise.all([
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
    ]);
    const held = (await svc.book(holder, eventId, 1)).json();
    const queued: { id: string; status: string }[] = [];
    await withDoomedBooking(eventId, doomed, async () => {
      // The doomed booking holds seat 2 in Redis; both newcomers wait.
      queued.push((await svc.book(first, eventId, 1)).json());
      queued.push((await svc.book(second, eventId, 1)).json());
      expect(queued.map((booking) => booking.status)).toEqual(['waiting', 'waiting']);
      // The holder's cancellation released seat 1 and promoted the first in line, then failed,
      // and its rebuild could neither rebuild nor drop the keys: Postgres records them untrusted.
      expect(await releaseNotRecorded(svc, eventId, held.id, 1)).toMatchObject({
        kind: 'OK',
        promotions: [{ bookingId: queued[0]?.id }],
      });
      await svc.db
        .updateTable('event_inventory')
        .set({ redis_generation: `untrusted:${randomUUID()}` })
        .where('event_id', '=', eventId)
        .execute();
    });
    // The give-back of seat 2 promoted the second in line on those keys: not recorded, or the
    // second would hold a seat while the first, ahead of it, still waits. Rebuilt from Postgres
    // (by the give-back's path or the next request), the free seat goes to the first in line.
    await svc.call(holder, 'GET', `/v1/events/${eventId}/availability`);
    expect((await svc.call(second, 'GET', `/v1/bookings/${queued[1]?.id}`)).json()).toMatchObject({
      status: 'waiting',
    });
    expect((await svc.call(first, 'GET', `/v1/bookings/${queued[0]?.id}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [2],
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('records none of its promotions on keys holding a cancellation Postgres does not record', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const [holder, keeper, doomed, first, second] = await Promise.all([
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
    ]);
    const held = (await svc.book(holder, eventId, 1)).json();
    await svc.book(keeper, eventId, 1);
    const queued: { id: string; status: string }[] = [];
    await withDoomedBooking(eventId, doomed, async () => {
      // The doomed booking holds seat 3 in Redis; both newcomers wait.
      queued.push((await svc.book(first, eventId, 1)).json());
      queued.push((await svc.book(second, eventId, 1)).json());
      expect(queued.map((booking) => booking.status)).toEqual(['waiting', 'waiting']);
      // The holder's cancellation released seat 1 and promoted the first in line, then its
      // transaction rolled back (its token never recorded), its rebuild still to come.
      expect(await releaseNotRecorded(svc, eventId, held.id, 1)).toMatchObject({
        kind: 'OK',
        promotions: [{ bookingId: queued[0]?.id }],
      });
    });
    // The give-back of seat 3 promoted the second in line past the first: not recorded. Rebuilt
    // from Postgres instead, the seat goes to the first.
    expect((await svc.call(second, 'GET', `/v1/bookings/${queued[1]?.id}`)).json()).toMatchObject({
      status: 'waiting',
    });
    expect((await svc.call(first, 'GET', `/v1/bookings/${queued[0]?.id}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [3],
    });
    await expectConsistent(svc, eventId, 3, 'fifo');
  });
});

describe('a seat Redis hands out that Postgres holds', () => {
  it('found again after the rebuild answers 503 with Retry-After, not a 500', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const who = await svc.user();
    // Every seat insert of the event meets the "one holder per seat" guard, as when Redis and
    // Postgres disagree on a seat, including after the rebuild that should repair it.
    const name = sql.id(`held_${randomUUID().replaceAll('-', '')}`);
    await sql`
      CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'seat held' USING ERRCODE = 'unique_violation',
        CONSTRAINT = 'booking_seats_one_holder'; END $$`.execute(svc.db);
    await sql`
      CREATE TRIGGER ${name} BEFORE INSERT ON booking_seats FOR EACH ROW
      WHEN (NEW.event_id = ${sql.lit(eventId)}) EXECUTE FUNCTION ${name}()`.execute(svc.db);
    try {
      const answer = await svc.book(who, eventId, 1);
      expect(answer.statusCode).toBe(503);
      expect(answer.json().code).toBe('EVENT_INVENTORY_REBUILDING');
      expect(answer.headers['retry-after']).toBe('1');
    } finally {
      await sql`DROP TRIGGER ${name} ON booking_seats`.execute(svc.db);
      await sql`DROP FUNCTION ${name}()`.execute(svc.db);
    }
    await expectConsistent(svc, eventId, 3, 'fifo');
    expect((await svc.book(who, eventId, 1)).json()).toMatchObject({ status: 'confirmed' });
  });
});
