import { randomUUID } from 'node:crypto';
import { withFailingWrites } from '@happening/db/testing';
import type { DomainError } from '@happening/service-kit';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelBatch } from '../src/modules/booking/cancel.batch.ts';
import { lockEventReleases } from '../src/modules/inventory/event-lock.ts';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import { withFailingInserts, withGate } from './failing-inserts.ts';
import { type Booking, releaseNotRecorded, startBooking, type TestUser } from './harness.ts';
import { expectConsistent } from './invariants.ts';
import { advisoryLockAwaited, holdLock } from './locks.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

async function bookedId(who: TestUser, eventId: string, seats: number): Promise<string> {
  const response = await svc.book(who, eventId, seats);
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

/** A 2-seat event held by two people a seat each, and two more waiting behind them, in order. */
async function fullWithTwoWaiting() {
  const { eventId } = await svc.openEvent({ totalSlots: 2 });
  const [holder, keeper, first, second] = await Promise.all([
    svc.user(),
    svc.user(),
    svc.user(),
    svc.user(),
  ]);
  const held = await bookedId(holder, eventId, 1);
  const kept = await bookedId(keeper, eventId, 1);
  const waiting = [await bookedId(first, eventId, 1), await bookedId(second, eventId, 1)];
  return { eventId, holder, keeper, first, second, held, kept, waiting };
}

const cancel = (who: TestUser, bookingId: string) =>
  svc.call(who, 'POST', `/v1/bookings/${bookingId}/cancel`, {});

const request = (eventId: string, bookingId: string, who: TestUser) => ({
  eventId,
  bookingId,
  callerId: who.sub,
  correlationId: randomUUID(),
});

/** The transaction that wrote each of the event's history entries, by booking and action. */
async function writers(eventId: string): Promise<Map<string, string>> {
  const { rows } = await sql<{ booking_id: string; action: string; tx: string }>`
    SELECT booking_id, action, xmin::text AS tx FROM booking_history WHERE event_id = ${eventId}`.execute(
    svc.db,
  );
  return new Map(rows.map((r) => [`${r.booking_id}:${r.action}`, r.tx]));
}

describe('cancellations in shared transactions', () => {
  it('a crowd cancelling at once shares transactions and promotes exactly as one by one would', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 40, waitlistPolicy: 'fifo' });
    const holders = await Promise.all(Array.from({ length: 40 }, () => svc.user()));
    const ids: string[] = [];
    for (const who of holders) ids.push(await bookedId(who, eventId, 1));
    const waiters = await Promise.all(Array.from({ length: 10 }, () => svc.user()));
    const waitingIds: string[] = [];
    for (const who of waiters) waitingIds.push(await bookedId(who, eventId, 1));

    const answers = await Promise.all(
      holders.slice(0, 30).map((who, i) => cancel(who, ids[i] as string)),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    expect(answers.map((a) => a.json().status)).toEqual(answers.map(() => 'cancelled'));

    const bookings = await svc.db
      .selectFrom('bookings')
      .select(['id', 'status'])
      .where('id', 'in', waitingIds)
      .execute();
    expect(bookings.map((b) => b.status)).toEqual(waitingIds.map(() => 'confirmed'));
    const written = await writers(eventId);
    const cancellingTransactions = new Set(
      ids.slice(0, 30).map((id) => written.get(`${id}:cancelled`)),
    );
    expect(cancellingTransactions.size).toBeLessThan(30);
    await expectConsistent(svc, eventId, 40, 'fifo');
    expect(
      (await svc.call(holders[0], 'GET', `/v1/events/${eventId}/availability`)).json(),
    ).toEqual({ totalSlots: 40, availableSlots: 20, waitlistLength: 0 });
  });

  it('cancelling a waitlist head that does not fit and the booking behind it promotes neither', async () => {
    const { eventId } = await svc.openEvent({
      totalSlots: 3,
      maxSeatsPerBooking: 2,
      waitlistPolicy: 'fifo',
    });
    const [a, head, behind] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await bookedId(a, eventId, 2);
    // one seat free: the head (2 seats) does not fit, and fifo keeps the one behind it waiting
    const headId = await bookedId(head, eventId, 2);
    const behindId = await bookedId(behind, eventId, 1);

    const outcomes = await cancelBatch(svc.ctx, [
      request(eventId, headId, head),
      request(eventId, behindId, behind),
    ]);
    // Both in the batch's one transaction: releasing the head first would have promoted the
    // booking behind it, which the same batch cancels, and sent both to be cancelled alone.
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 'done' },
      { status: 'fulfilled', value: 'done' },
    ]);
    const written = await writers(eventId);
    expect(written.get(`${headId}:cancelled`)).toBe(written.get(`${behindId}:cancelled`));
    expect(written.has(`${behindId}:promoted`)).toBe(false);
    await expectConsistent(svc, eventId, 3, 'fifo');
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 3,
      availableSlots: 1,
      waitlistLength: 0,
    });
  });

  it('one batch answers each cancellation by its own rules and writes the rest together', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 2, waitlistPolicy: 'fifo' });
    const [a, w, x, stranger] = await Promise.all([svc.user(), svc.user(), svc.user(), svc.user()]);
    const aId = await bookedId(a, eventId, 2);
    const wId = await bookedId(w, eventId, 2);
    const xId = await bookedId(x, eventId, 1);

    const outcomes = await cancelBatch(svc.ctx, [
      request(eventId, aId, a),
      request(eventId, wId, w),
      request(eventId, aId, a),
      request(eventId, randomUUID(), a),
      request(eventId, xId, stranger),
    ]);
    const shown = outcomes.map((o) =>
      o.status === 'fulfilled' ? o.value : (o.reason as DomainError).code,
    );
    expect(shown).toEqual(['done', 'done', 'done', 'BOOKING_NOT_FOUND', 'BOOKING_NOT_FOUND']);

    // w left the waitlist before a's seats were released, so they went to x, next in line
    const statuses = await svc.db
      .selectFrom('bookings')
      .select(['id', 'status'])
      .where('event_id', '=', eventId)
      .execute();
    expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
      [aId]: 'cancelled',
      [wId]: 'cancelled',
      [xId]: 'confirmed',
    });
    const written = await writers(eventId);
    const oneTransaction = written.get(`${aId}:cancelled`);
    expect(written.get(`${wId}:cancelled`)).toBe(oneTransaction);
    expect(written.get(`${xId}:promoted`)).toBe(oneTransaction);
    // a cancelled twice in the batch: one entry
    expect([...written.keys()].filter((k) => k.endsWith(':cancelled'))).toHaveLength(2);
    await expectConsistent(svc, eventId, 2, 'fifo');
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 2,
      availableSlots: 1,
      waitlistLength: 0,
    });
  });

  it('a booking handed a seat a cancellation is still committing books it once that commits, with no rebuild', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 2 });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    const leaving = (await svc.book(a, eventId, 1)).json();
    expect(leaving.seatNumbers).toEqual([1]);
    expect((await svc.book(b, eventId, 1)).json().seatNumbers).toEqual([2]);
    const generation = (await svc.ctx.inventory.keysOf(eventId))?.generation;

    const { cancelled, booked } = await withGate(svc.db, (gate) =>
      withFailingWrites(
        svc.db,
        {
          table: 'booking_history',
          on: 'INSERT',
          when: sql`NEW.action = 'cancelled' AND NEW.booking_id = ${sql.lit(leaving.id)}::uuid`,
          gate: gate.key,
          passes: true,
        },
        async () => {
          // The cancellation has released seat 1 in Redis; its write waits at the gate.
          const cancelling = svc.call(a, 'POST', `/v1/bookings/${leaving.id}/cancel`);
          await gate.reached();
          const booking = svc.book(c, eventId, 1);
          // Redis hands the newcomer seat 1; its transaction then waits on a lock (the seat,
          // until the cancellation commits; or, once refused it, the event, for a rebuild).
          await eventually(async () => {
            const { rows } = await sql<{ n: string }>`
              SELECT count(*) AS n FROM pg_locks
              WHERE NOT granted AND NOT (locktype = 'advisory' AND objid = ${gate.key})`.execute(
              svc.db,
            );
            return Number(rows[0]?.n) > 0;
          });
          await gate.open();
          return { cancelled: await cancelling, booked: await booking };
        },
      ),
    );
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(booked.statusCode, booked.body).toBe(201);
    expect(booked.json()).toMatchObject({ status: 'confirmed', seatNumbers: [1] });
    // Redis was never found wrong, so never rebuilt.
    expect((await svc.ctx.inventory.keysOf(eventId))?.generation).toBe(generation);
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('through HTTP, a write failing for one cancellation fails only that one', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 10 });
    const holders = await Promise.all(Array.from({ length: 10 }, () => svc.user()));
    const ids: string[] = [];
    for (const who of holders) ids.push(await bookedId(who, eventId, 1));
    const doomed = ids[3] as string;
    const answers = await withFailingInserts(
      svc.db,
      'booking_history',
      sql`NEW.action = 'cancelled' AND NEW.booking_id = ${sql.lit(doomed)}::uuid`,
      () => Promise.all(holders.map((who, i) => cancel(who, ids[i] as string))),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(ids.map((id) => (id === doomed ? 500 : 200)));
    await expectConsistent(svc, eventId, 10, 'fifo');
    expect(
      (await svc.call(holders[0], 'GET', `/v1/events/${eventId}/availability`)).json(),
    ).toEqual({ totalSlots: 10, availableSlots: 9, waitlistLength: 0 });
  });

  it('through HTTP, a release Redis answers with an error rebuilds the event, then cancels', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [holder, waiter] = await Promise.all([svc.user(), svc.user()]);
    const held = await bookedId(holder, eventId, 1);
    const waiting = await bookedId(waiter, eventId, 1);
    // The release script fails inside Redis: whatever it did before failing is not known.
    await svc.redis.set(inventoryKeys(eventId).free, 'not a sorted set');
    const answer = await cancel(holder, held);
    expect(answer.statusCode, answer.body).toBe(200);
    expect((await svc.call(waiter, 'GET', `/v1/bookings/${waiting}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1],
    });
    await expectConsistent(svc, eventId, 1, 'fifo');
  });

  it('a cancellation queued behind one whose write failed after its release does not promote past whoever that release promoted', async () => {
    const { eventId, holder, keeper, first, second, held, kept, waiting } =
      await fullWithTwoWaiting();
    let queued: Promise<unknown> | undefined;
    const failed = await withGate(svc.db, (gate) =>
      withFailingWrites(
        svc.db,
        {
          table: 'booking_history',
          on: 'INSERT',
          when: sql`NEW.action = 'cancelled' AND NEW.booking_id = ${sql.lit(held)}::uuid`,
          gate: gate.key,
        },
        async () => {
          // The holder's release has promoted the first in line in Redis; its write waits.
          const cancelling = cancel(holder, held);
          await gate.reached();
          // Another replica's cancellation of the keeper queues on the event's release lock (the
          // only lock anyone waits for exclusively: the gate is waited for shared).
          queued = cancelBatch(svc.ctx, [request(eventId, kept, keeper)]);
          await advisoryLockAwaited(svc.db, 'ExclusiveLock');
          await gate.open();
          return cancelling;
        },
      ),
    );
    expect(failed.statusCode).toBe(500);
    // Its release found the keys holding a release Postgres never recorded: left to be done
    // alone, after a rebuild, instead of promoting the second in line into the keeper's seat
    // while the first, ahead of it, still waits.
    expect(await queued).toEqual([{ status: 'fulfilled', value: 'alone' }]);
    expect((await svc.call(second, 'GET', `/v1/bookings/${waiting[1]}`)).json()).toMatchObject({
      status: 'waiting',
    });
    expect((await cancel(keeper, kept)).statusCode).toBe(200);
    expect((await svc.call(first, 'GET', `/v1/bookings/${waiting[0]}`)).json()).toMatchObject({
      status: 'confirmed',
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('a cancellation finding the keys holding a release Postgres does not record rebuilds them, then cancels', async () => {
    const { eventId, keeper, first, second, held, kept, waiting } = await fullWithTwoWaiting();
    // The holder's cancellation released seat 1 and promoted the first in line in Redis, then
    // its transaction rolled back, its token never recorded.
    await releaseNotRecorded(svc, eventId, held, 1);
    const generation = (await svc.ctx.inventory.keysOf(eventId))?.generation;
    // Refused on those keys, then done alone after a rebuild check that must rebuild them though
    // they are of the generation Postgres records (else: refused again, 503).
    expect((await cancel(keeper, kept)).statusCode).toBe(200);
    expect((await svc.ctx.inventory.keysOf(eventId))?.generation).not.toBe(generation);
    expect((await svc.call(first, 'GET', `/v1/bookings/${waiting[0]}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [2],
    });
    expect((await svc.call(second, 'GET', `/v1/bookings/${waiting[1]}`)).json()).toMatchObject({
      status: 'waiting',
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it("one event's held release lock does not hold up another event's cancellations", async () => {
    const [held, free] = [
      await svc.openEvent({ totalSlots: 2 }),
      await svc.openEvent({ totalSlots: 2 }),
    ];
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    const heldBooking = await bookedId(a, held.eventId, 1);
    const freeBooking = await bookedId(b, free.eventId, 1);
    // Another transaction releasing seats of the first event (a compensation, say) holds its lock.
    const holder = await holdLock(svc.db, (trx) => lockEventReleases(trx, held.eventId));
    const waiting = cancel(a, heldBooking);
    try {
      await advisoryLockAwaited(svc.db);
      // Answered while the first event's cancellation still waits for its lock.
      const answered = await cancel(b, freeBooking);
      expect(answered.statusCode).toBe(200);
      expect(answered.json().status).toBe('cancelled');
    } finally {
      await holder.release();
    }
    expect((await waiting).statusCode).toBe(200);
    await expectConsistent(svc, held.eventId, 2, 'fifo');
    await expectConsistent(svc, free.eventId, 2, 'fifo');
  });
});
