import { withFailingWrites } from '@happening/db/testing';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEvent } from '../src/modules/inventory/event-inventory.repository.ts';
import { lockEventShared } from '../src/modules/inventory/event-lock.ts';
import { withFailingInserts, withGate } from './failing-inserts.ts';
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

describe('a capacity change and its Redis rebuild', () => {
  it('are one step for a booking that holds the event lock: Postgres and Redis agree on the total', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 10 });
    const changes = [
      { version: 3, previousTotalSlots: 10, totalSlots: 8 },
      { version: 4, previousTotalSlots: 8, totalSlots: 12 },
    ];
    for (const { version, previousTotalSlots, totalSlots } of changes) {
      // A booking batch in flight holds the event lock shared; what it reads under the lock, the
      // event from Postgres and the free seats from Redis, must describe the same capacity.
      const seen: { postgres?: number; redis?: number } = {};
      const batch = await holdLock(
        svc.db,
        (trx) => lockEventShared(trx, eventId, 5_000),
        async (trx) => {
          seen.postgres = (await findEvent(trx, eventId))?.totalSlots;
          seen.redis = (await svc.ctx.inventory.availability(eventId, null))?.totalSlots;
        },
      );
      await svc.publish(
        'catalog.event_capacity_changed',
        { eventId, orgId, previousTotalSlots, totalSlots },
        { type: 'event', id: eventId, version },
      );
      // The change (or its rebuild) waits for the batch's lock.
      await advisoryLockAwaited(svc.db, 'ExclusiveLock');
      await batch.release();
      expect(seen.redis).toBe(seen.postgres);

      await eventually(
        async () =>
          (await svc.ctx.inventory.availability(eventId, null))?.totalSlots === totalSlots,
        { what: `Redis at ${totalSlots} seats` },
      );
      await expectConsistent(svc, eventId, totalSlots, 'fifo');
    }
  });
});

describe('a capacity lowered below what a waiting booking asks', () => {
  it('cancels that booking, for whoever lowered it, so it no longer holds up those behind it', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 4 });
    const [holder, big, small, organizer] = await Promise.all([
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
    ]);
    const held = (await svc.book(holder, eventId, 2)).json();
    const bigWait = (await svc.book(big, eventId, 3)).json();
    const smallWait = (await svc.book(small, eventId, 1)).json();
    expect([held.status, bigWait.status, smallWait.status]).toEqual([
      'confirmed',
      'waiting',
      'waiting',
    ]);

    await svc.publish(
      'catalog.event_capacity_changed',
      { eventId, orgId, previousTotalSlots: 4, totalSlots: 2, changedBy: organizer.sub },
      { type: 'event', id: eventId, version: 3 },
    );
    const cancelled = await eventually(
      () => svc.eventsOf('booking.booking_cancelled', (e) => e.data.bookingId === bigWait.id)[0],
      { what: 'the 3-seat waiting booking cancelled' },
    );
    expect(cancelled.data).toMatchObject({
      previousStatus: 'waiting',
      seats: 3,
      seatNumbers: [],
      reason: 'by_organizer',
      cancelledBy: organizer.sub,
      note: 'The event now has 2 seats, fewer than the 3 this booking asks.',
    });
    expect((await svc.call(big, 'GET', `/v1/bookings/${bigWait.id}`)).json()).toMatchObject({
      status: 'cancelled',
    });
    const history = (await svc.call(big, 'GET', `/v1/bookings/${bigWait.id}/history`)).json();
    // The booker reads why; who it was is the organization's to know.
    expect(history.items.at(-1)).toMatchObject({
      action: 'cancelled',
      details: { reason: 'by_organizer', note: cancelled.data.note },
    });
    expect(history.items.at(-1).details).not.toHaveProperty('cancelledBy');
    // The 1-seat booking is now the head of the line and gets the seat the holder gives up.
    expect((await svc.call(small, 'GET', `/v1/bookings/${smallWait.id}`)).json()).toMatchObject({
      status: 'waiting',
      waitlistPosition: 1,
    });
    await svc.call(holder, 'POST', `/v1/bookings/${held.id}/cancel`, {});
    expect((await svc.call(small, 'GET', `/v1/bookings/${smallWait.id}`)).json()).toMatchObject({
      status: 'confirmed',
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('cancels it too when a later update carrying the lowered total is handled before the change', async () => {
    const { eventId, orgId, snapshot } = await svc.openEvent({ totalSlots: 4 });
    const [holder, big] = await Promise.all([svc.user(), svc.user()]);
    expect((await svc.book(holder, eventId, 2)).json().status).toBe('confirmed');
    const bigWait = (await svc.book(big, eventId, 3)).json();
    expect(bigWait.status).toBe('waiting');

    // A rename after the capacity change (version 4, its snapshot at 2 seats) arrives first.
    await svc.publish(
      'catalog.event_updated',
      {
        eventId,
        orgId,
        changes: { name: { from: snapshot.name, to: 'Smaller room' } },
        event: {
          ...snapshot,
          name: 'Smaller room',
          totalSlots: 2,
          maxSeatsPerBooking: 2,
          version: 4,
        },
      },
      { type: 'event', id: eventId, version: 4 },
    );
    const cancelled = await eventually(
      () => svc.eventsOf('booking.booking_cancelled', (e) => e.data.bookingId === bigWait.id)[0],
      { what: 'the 3-seat waiting booking cancelled' },
    );
    expect(cancelled.data).toMatchObject({ reason: 'by_organizer', cancelledBy: orgId });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });
});

describe('a capacity change whose rebuild Postgres refuses', () => {
  it('fails as a whole and is counted once, when its retry succeeds', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 3 });
    const [holder, big, small] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    expect((await svc.book(holder, eventId, 1)).json().status).toBe('confirmed');
    const bigWait = (await svc.book(big, eventId, 3)).json();
    const smallWait = (await svc.book(small, eventId, 1)).json();
    expect([bigWait.status, smallWait.status]).toEqual(['waiting', 'waiting']);
    const counted = async () => {
      const text = (await svc.call(undefined, 'GET', '/metrics')).body as string;
      const value = (outcome: string) => {
        const series = `happening_bookings_total{outcome="${outcome}"} `;
        const line = text.split('\n').find((l) => l.startsWith(series));
        return line ? Number(line.slice(series.length)) : 0;
      };
      return { cancelled: value('cancelled'), promoted: value('promoted') };
    };
    const before = await counted();

    // Lowered to 2, the change cancels the 3-seat booking, and its rebuild promotes the 1-seat
    // one behind it; recording that promotion fails once, at a gate.
    await withGate(svc.db, (gate) =>
      withFailingInserts(
        svc.db,
        'booking_history',
        sql`NEW.action = 'promoted' AND NEW.booking_id = ${sql.lit(smallWait.id)}`,
        async () => {
          await svc.publish(
            'catalog.event_capacity_changed',
            { eventId, orgId, previousTotalSlots: 3, totalSlots: 2 },
            { type: 'event', id: eventId, version: 3 },
          );
          await gate.reached();
          await gate.open();
          // The failed attempt ended: its locks are gone, and the event's keys with them.
          await eventually(async () => !(await svc.ctx.inventory.exists(eventId)), {
            what: 'the failed attempt dropping the keys it rebuilt',
          });
        },
        gate.key,
      ),
    );

    await eventually(
      async () =>
        (await svc.call(small, 'GET', `/v1/bookings/${smallWait.id}`)).json().status ===
        'confirmed',
      { what: 'the 1-seat booking promoted by the retried change' },
    );
    expect((await svc.call(big, 'GET', `/v1/bookings/${bigWait.id}`)).json().status).toBe(
      'cancelled',
    );
    const after = await counted();
    expect(after.cancelled - before.cancelled).toBe(1);
    expect(after.promoted - before.promoted).toBe(1);
    await expectConsistent(svc, eventId, 2, 'fifo');
  });
});

describe('a capacity change whose COMMIT fails after its rebuild', () => {
  it('leaves nothing decided on the keys it rebuilt; its redelivery applies it', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 2 });
    const [holder, late] = await Promise.all([svc.user(), svc.user()]);
    expect((await svc.book(holder, eventId, 2)).json().status).toBe('confirmed');

    const lateBooking = await withGate(svc.db, (gate) =>
      withFailingWrites(
        svc.db,
        {
          table: 'inbox',
          on: 'INSERT',
          when: sql`NEW.consumer = 'booking.inventory'`,
          atCommit: true,
          gate: gate.key,
        },
        async () => {
          await svc.publish(
            'catalog.event_capacity_changed',
            { eventId, orgId, previousTotalSlots: 2, totalSlots: 4 },
            { type: 'event', id: eventId, version: 3 },
          );
          // Redis is rebuilt for 4 seats; the change waits at its COMMIT, which will fail.
          await gate.reached();
          const booking = svc.book(late, eventId, 1);
          const availability = svc.call(late, 'GET', `/v1/events/${eventId}/availability`);
          await eventually(async () => (await waitingForLocks(gate.key)) >= 1, {
            what: 'the booking waiting for the event lock',
          });
          await gate.open();
          // Neither was answered from the keys of a change that never committed.
          expect((await availability).json()).toMatchObject({ totalSlots: 2 });
          const answer = await booking;
          expect(answer.statusCode).toBe(201);
          return answer.json();
        },
      ),
    );
    expect(lateBooking.status).toBe('waiting');

    // Redelivered, the change commits and its rebuild promotes the late booking.
    await eventually(
      async () =>
        (await svc.call(late, 'GET', `/v1/bookings/${lateBooking.id}`)).json().status ===
        'confirmed',
      { what: 'the late booking promoted by the redelivered change' },
    );
    await expectConsistent(svc, eventId, 4, 'fifo');
  });
});

/** Sessions of this test's database waiting for an advisory lock other than `gate`. */
async function waitingForLocks(gate: number): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted AND objid <> ${gate}
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(
    svc.db,
  );
  return Number(rows[0]?.n);
}
