import { randomUUID } from 'node:crypto';
import type { DomainError } from '@happening/service-kit';
import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingDb } from '../src/db/database.ts';
import { type BatchedBookRequest, bookBatch } from '../src/modules/booking/book.batch.ts';
import { persistPromotions } from '../src/modules/booking/promotion.writer.ts';
import { findEvent } from '../src/modules/inventory/event-inventory.repository.ts';
import { lockEventExclusive, lockEventReleases } from '../src/modules/inventory/event-lock.ts';
import { rebuildUnderLocks, reconcileEvent } from '../src/modules/inventory/reconcile.service.ts';
import type { ReleaseResult } from '../src/redis/inventory.client.ts';
import { bookingLockKey, inventoryKeys } from '../src/redis/inventory.keys.ts';
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

const request = (eventId: string, userId: string, seats = 1): BatchedBookRequest => ({
  eventId,
  userId,
  seats,
  correlationId: randomUUID(),
  lockToken: randomUUID(),
});

/** How many transactions wrote the event's `created` entries (history rows are never updated). */
async function creatingTransactions(eventId: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(DISTINCT xmin::text) AS n FROM booking_history
    WHERE event_id = ${eventId} AND action = 'created'`.execute(svc.db);
  return Number(rows[0]?.n);
}

/** Makes every insert of `userId`'s booking fail, for the duration of `work`. */
const withFailingWritesFor = <T>(userId: string, work: () => Promise<T>, gate?: number) =>
  withFailingInserts(svc.db, 'bookings', sql`NEW.user_id = ${sql.lit(userId)}`, work, gate);

/** How many decisions Redis has taken for the event (a give-back never lowers it). */
const decisionsTaken = async (eventId: string) =>
  Number(await svc.redis.hget(inventoryKeys(eventId).meta, 'seq'));

/** Takes the locks a rebuild holds: the event lock exclusively, then the release lock. */
async function lockAsRebuild(trx: Transaction<BookingDb>, eventId: string): Promise<void> {
  await lockEventExclusive(trx, eventId);
  await lockEventReleases(trx, eventId);
}

/**
 * Rebuilds the event's keys in a transaction that commits without marking them committed, as in
 * the round trip between a rebuild's COMMIT and its mark; returns their generation.
 */
async function rebuiltUnmarked(eventId: string): Promise<string | undefined> {
  const { generation } = await svc.db.transaction().execute(async (trx) => {
    await lockAsRebuild(trx, eventId);
    return rebuildUnderLocks(svc.ctx, trx, eventId, { correlationId: randomUUID() });
  });
  return generation;
}

describe('bookings in shared transactions', () => {
  it('a crowd booking at once shares transactions, each answered as if alone', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 60 });
    const users = await Promise.all(Array.from({ length: 100 }, () => svc.user()));
    const responses = await Promise.all(users.map((u) => svc.book(u, eventId, 1)));
    expect(responses.map((r) => r.statusCode)).toEqual(users.map(() => 201));
    expect(responses.filter((r) => r.json().status === 'confirmed')).toHaveLength(60);
    expect(await creatingTransactions(eventId)).toBeLessThan(100);
    await expectConsistent(svc, eventId, 60, 'fifo');
  });

  it('one batch answers each request by its own rules and commits the rest together', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3, maxSeatsPerBooking: 2 });
    const [holder, a, b, c, greedy] = await Promise.all([
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
    ]);
    const held = await svc.book(holder, eventId, 1);
    expect(held.statusCode).toBe(201);

    const outcomes = await bookBatch(svc.ctx, [
      request(eventId, a.sub, 2),
      request(randomUUID(), b.sub),
      request(eventId, greedy.sub, 3),
      request(eventId, holder.sub),
      request(eventId, c.sub, 1),
    ]);
    const codeOf = (o: PromiseSettledResult<unknown> | undefined) =>
      o?.status === 'rejected' ? (o.reason as DomainError).code : undefined;
    expect(outcomes.map(codeOf)).toEqual([
      undefined,
      'EVENT_NOT_FOUND',
      'BOOKING_TOO_MANY_SEATS',
      'BOOKING_ALREADY_EXISTS',
      undefined,
    ]);
    expect(outcomes[0]).toMatchObject({
      status: 'fulfilled',
      value: { userId: a.sub, status: 'confirmed', seatNumbers: [2, 3] },
    });
    expect(outcomes[4]).toMatchObject({
      status: 'fulfilled',
      value: { userId: c.sub, status: 'waiting', waitingNumber: 1, waitlistPosition: 1 },
    });
    // the holder's booking on its own, a's and c's together
    expect(await creatingTransactions(eventId)).toBe(2);
    await expectConsistent(svc, eventId, 3, 'fifo');
  });

  it('takes every person lock before reading: a duplicate in the batch or in flight is answered BOOKING_IN_PROGRESS', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 10 });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    // c has a booking of this event in flight elsewhere: its lock is held by another token.
    await svc.redis.set(bookingLockKey(eventId, c.sub), 'elsewhere', 'PX', 5_000);
    const first = request(eventId, a.sub);
    const outcomes = await bookBatch(svc.ctx, [
      first,
      request(eventId, a.sub),
      request(eventId, b.sub),
      request(eventId, c.sub),
    ]);
    const codeOf = (o: PromiseSettledResult<unknown> | undefined) =>
      o?.status === 'rejected' ? (o.reason as DomainError).code : undefined;
    expect(outcomes.map(codeOf)).toEqual([
      undefined,
      'BOOKING_IN_PROGRESS',
      undefined,
      'BOOKING_IN_PROGRESS',
    ]);
    // The batch leaves each lock to its request (which releases it once answered).
    expect(await svc.redis.get(bookingLockKey(eventId, a.sub))).toBe(first.lockToken);
    expect(await svc.redis.get(bookingLockKey(eventId, c.sub))).toBe('elsewhere');
    const rows = await svc.db
      .selectFrom('bookings')
      .select('user_id')
      .where('event_id', '=', eventId)
      .execute();
    expect(rows.map((r) => r.user_id).sort()).toEqual([a.sub, b.sub].sort());
    await expectConsistent(svc, eventId, 10, 'fifo');
  });

  it('a batch whose write fails writes each decision again alone, and gives back only those that fail again', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 5 });
    const [a, doomed, b] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    const decidedBefore = await decisionsTaken(eventId);
    const outcomes = await withFailingWritesFor(doomed.sub, () =>
      bookBatch(svc.ctx, [
        request(eventId, a.sub, 2),
        request(eventId, doomed.sub, 2),
        request(eventId, b.sub, 2),
      ]),
    );
    // Redis decided all three (2 + 2 seats, then a waiting place) and decided nothing again.
    expect(await decisionsTaken(eventId)).toBe(decidedBefore + 3);
    expect(outcomes.map((o) => o.status === 'fulfilled' && o.value)).toMatchObject([
      { userId: a.sub, status: 'confirmed', seatNumbers: [1, 2] },
      'alone',
      { userId: b.sub, status: 'waiting', waitingNumber: 1 },
    ]);
    // The doomed decision given back freed its two seats, and b, first in line, got them.
    const held = await svc.db
      .selectFrom('bookings')
      .select(['user_id', 'status'])
      .where('event_id', '=', eventId)
      .orderBy('created_at')
      .execute();
    expect(held).toEqual([
      { user_id: a.sub, status: 'confirmed' },
      { user_id: b.sub, status: 'confirmed' },
    ]);
    await expectConsistent(svc, eventId, 5, 'fifo');
  });

  it('a failed batch keeps its requests ahead of those that came after it', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 2 });
    const [a, doomed, later] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    const { outcomes, latecomer } = await withGate(svc.db, async (gate) => {
      const batch = withFailingWritesFor(
        doomed.sub,
        () => bookBatch(svc.ctx, [request(eventId, a.sub, 2), request(eventId, doomed.sub, 1)]),
        gate.key,
      );
      // Both decided (a the two seats, doomed the waitlist's first place); the write waits.
      await gate.reached();
      // Meanwhile another batch puts a latecomer behind them, and commits.
      const latecomer = (await svc.book(later, eventId, 1)).json();
      expect(latecomer).toMatchObject({ status: 'waiting', waitingNumber: 2 });
      await gate.open();
      return { outcomes: await batch, latecomer };
    });
    // a keeps the seats Redis gave it; the latecomer is not promoted into them.
    expect(outcomes.map((o) => o.status === 'fulfilled' && o.value)).toMatchObject([
      { userId: a.sub, status: 'confirmed', seatNumbers: [1, 2] },
      'alone',
    ]);
    expect((await svc.call(later, 'GET', `/v1/bookings/${latecomer.id}`)).json()).toMatchObject({
      status: 'waiting',
      waitlistPosition: 1,
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('a failed batch whose decisions cannot be given back rebuilds the event from Postgres', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 5 });
    const [a, doomed] = await Promise.all([svc.user(), svc.user()]);
    const outcomes = await withGate(svc.db, async (gate) => {
      const batch = withFailingWritesFor(
        doomed.sub,
        () => bookBatch(svc.ctx, [request(eventId, a.sub, 2), request(eventId, doomed.sub, 2)]),
        gate.key,
      );
      // The write waits at the gate, after both Redis decisions: break the free-seat set so every
      // give-back fails inside Redis (WRONGTYPE), then let the write fail.
      await gate.reached();
      const inFlight = await svc.call(a, 'GET', `/v1/events/${eventId}/availability`);
      expect(inFlight.json().availableSlots).toBe(1); // both decisions taken, 4 seats held
      await svc.redis.set(inventoryKeys(eventId).free, 'not a sorted set');
      await gate.open();
      return batch;
    });
    // a's decision was written again (it needs nothing of Redis's free seats); doomed's could
    // not be given back: the event was rebuilt from Postgres, where a holds seats 1 and 2.
    expect(outcomes.map((o) => o.status === 'fulfilled' && o.value)).toMatchObject([
      { userId: a.sub, status: 'confirmed', seatNumbers: [1, 2] },
      'alone',
    ]);
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 5,
      availableSlots: 3,
      waitlistLength: 0,
    });
    expect(await svc.redis.type(inventoryKeys(eventId).free)).toBe('zset');
    await expectConsistent(svc, eventId, 5, 'fifo');
  });

  it('keys a committed rebuild has not marked yet are marked by the next booking, which decides at once', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const person = await svc.user();
    // A rebuild whose transaction committed, its mark not sent yet: the round trip after its
    // COMMIT, in which the bookings its lock held back reach Redis.
    const generation = await rebuiltUnmarked(eventId);
    expect(generation).toBeDefined();
    expect(await svc.ctx.inventory.exists(eventId)).toBe(false);
    expect((await svc.book(person, eventId, 1)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1],
    });
    // Decided on those keys, not on keys rebuilt once more.
    expect((await svc.ctx.inventory.keysOf(eventId))?.generation).toBe(generation);
    expect(await svc.ctx.inventory.exists(eventId)).toBe(true);
    await expectConsistent(svc, eventId, 3, 'fifo');
  });

  it('a read that finds the keys of a committed rebuild still pending shows them instead of rebuilding', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const person = await svc.user();
    const generation = await rebuiltUnmarked(eventId);
    const availability = await svc.call(person, 'GET', `/v1/events/${eventId}/availability`);
    expect(availability.json()).toEqual({ totalSlots: 3, availableSlots: 3, waitlistLength: 0 });
    expect((await svc.ctx.inventory.keysOf(eventId))?.generation).toBe(generation);
  });

  it('a booking alone behind a rebuild marks the keys that rebuild committed, and decides on them', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const person = await svc.user();
    // A rebuild holds the event lock: the batch leaves the booking alone, which waits for it.
    let generation: string | undefined;
    const rebuild = await holdLock(
      svc.db,
      (trx) => lockAsRebuild(trx, eventId),
      async (trx) => {
        ({ generation } = await rebuildUnderLocks(svc.ctx, trx, eventId, {
          correlationId: randomUUID(),
        }));
      },
    );
    const booking = svc.book(person, eventId, 1);
    await advisoryLockAwaited(svc.db, 'ShareLock');
    // It commits without marking its keys (its mark still on the way when the booking decides).
    await rebuild.release();
    expect((await booking).json()).toMatchObject({ status: 'confirmed', seatNumbers: [1] });
    expect((await svc.ctx.inventory.keysOf(eventId))?.generation).toBe(generation);
    await expectConsistent(svc, eventId, 3, 'fifo');
  });

  it('a promotion recorded after a rebuild promoted the same booking returns no seats', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const phantom = randomUUID();
    // A decision whose booking will not commit takes the only seat; a newcomer then waits.
    expect(
      await svc.ctx.inventory.reserve(eventId, { bookingId: phantom, seats: 1 }, null),
    ).toMatchObject({ kind: 'confirmed', seatNumbers: [1] });
    const waiter = await svc.user();
    const waiting = (await svc.book(waiter, eventId, 1)).json();
    expect(waiting.status).toBe('waiting');
    // Giving the decision back promotes the waiter in Redis; before that is recorded, a rebuild
    // from Postgres promotes it too (onto the same seat) and records it.
    const { promotions } = (await svc.ctx.inventory.compensate(eventId, {
      bookingId: phantom,
      status: 'confirmed',
      seatNumbers: [1],
    })) as Extract<ReleaseResult, { kind: 'OK' }>;
    expect(promotions).toMatchObject([{ bookingId: waiting.id, seatNumbers: [1] }]);
    await reconcileEvent(svc.ctx, eventId, { correlationId: randomUUID() });
    // The late recording finds the booking confirmed: seat 1 stays the waiter's.
    await svc.db.transaction().execute(async (trx) => {
      await lockEventReleases(trx, eventId);
      const event = await findEvent(trx, eventId);
      if (!event) throw new Error('event gone');
      await persistPromotions(trx, svc.ctx.inventory, event, promotions, {
        correlationId: randomUUID(),
      });
    });
    expect((await svc.call(waiter, 'GET', `/v1/bookings/${waiting.id}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1],
    });
    await expectConsistent(svc, eventId, 1, 'fifo');
  });

  it('through HTTP, a decision Redis answers with an error rebuilds the event before the answer', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    expect((await svc.book(a, eventId, 1)).statusCode).toBe(201);
    // The script fails inside Redis: whatever it did before failing is not known.
    await svc.redis.set(inventoryKeys(eventId).free, 'not a sorted set');
    expect((await svc.book(b, eventId, 1)).statusCode).toBe(500);
    // Rebuilt from Postgres before b was answered: b's retry books.
    expect(await svc.redis.type(inventoryKeys(eventId).free)).toBe('zset');
    expect((await svc.book(b, eventId, 1)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [2],
    });
    await expectConsistent(svc, eventId, 3, 'fifo');
  });

  it('through HTTP, a write failing for one person fails only that person’s booking', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 20 });
    const users = await Promise.all(Array.from({ length: 15 }, () => svc.user()));
    const doomed = await svc.user();
    const [failed, ...answered] = await withFailingWritesFor(doomed.sub, () =>
      Promise.all([svc.book(doomed, eventId, 1), ...users.map((u) => svc.book(u, eventId, 1))]),
    );
    expect(failed?.statusCode).toBe(500);
    expect(answered.map((r) => r.statusCode)).toEqual(users.map(() => 201));
    expect((await svc.call(doomed, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 20,
      availableSlots: 5,
      waitlistLength: 0,
    });
    await expectConsistent(svc, eventId, 20, 'fifo');
    expect((await svc.book(doomed, eventId, 1)).json()).toMatchObject({ status: 'confirmed' });
  });
});
