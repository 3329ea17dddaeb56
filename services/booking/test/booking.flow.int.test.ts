import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { idempotencyKeyCompletionFails, withFailingWrites } from '@happening/db/testing';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockEventExclusive } from '../src/modules/inventory/event-lock.ts';
import { bookingLockKey } from '../src/redis/inventory.keys.ts';
import { type Booking, startBooking, type TestUser } from './harness.ts';
import { expectConsistent } from './invariants.ts';
import { holdLock } from './locks.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

describe('booking flow through HTTP', () => {
  it('confirms with the lowest seats, waitlists when full, and publishes both', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 3 });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    const first = await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 2 });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1, 2],
      waitingNumber: null,
      userId: a.sub,
    });
    const second = await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 2 });
    expect(second.json()).toMatchObject({
      status: 'waiting',
      seatNumbers: [],
      waitingNumber: 1,
      waitlistPosition: 1,
    });
    const third = await svc.call(c, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    // fifo: one seat is free but someone waits, so the newcomer waits too
    expect(third.json()).toMatchObject({
      status: 'waiting',
      waitingNumber: 2,
      waitlistPosition: 2,
    });

    const availability = await svc.call(a, 'GET', `/v1/events/${eventId}/availability`);
    expect(availability.json()).toEqual({ totalSlots: 3, availableSlots: 1, waitlistLength: 2 });
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/seats`)).json()).toEqual({
      bookedSeats: [1, 2],
      nextCursor: null,
    });

    await eventually(
      () =>
        svc.eventsOf('booking.booking_confirmed', (e) => e.data.eventId === eventId).length === 1,
    );
    const waitlisted = await eventually(() => {
      const found = svc.eventsOf('booking.booking_waitlisted', (e) => e.data.eventId === eventId);
      return found.length === 2 ? found : undefined;
    });
    expect(waitlisted[0]?.data).toMatchObject({
      eventName: 'Flash sale',
      waitingNumber: 1,
      waitlistPosition: 1,
    });
    // cancelling the confirmed booking promotes the head (2 seats fit in 3), then the next
    const cancelled = await svc.call(a, 'POST', `/v1/bookings/${first.json().id}/cancel`, {});
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      seatNumbers: [],
      cancelledReason: 'by_owner',
    });
    const promotedB = await svc.call(b, 'GET', `/v1/bookings/${second.json().id}`);
    expect(promotedB.json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1, 2],
      waitingNumber: 1,
    });
    const promotedC = await svc.call(c, 'GET', `/v1/bookings/${third.json().id}`);
    expect(promotedC.json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [3],
      waitlistPosition: null,
    });
    const promotions = await eventually(() => {
      const found = svc.eventsOf('booking.waitlist_promoted', (e) => e.data.eventId === eventId);
      return found.length === 2 ? found : undefined;
    });
    expect(promotions.map((p) => p.data.seatNumbers)).toEqual([[1, 2], [3]]);
    await eventually(
      () =>
        svc.eventsOf('booking.booking_cancelled', (e) => e.data.bookingId === first.json().id)
          .length === 1,
    );

    const history = await svc.call(b, 'GET', `/v1/bookings/${second.json().id}/history`);
    expect(history.json().items.map((h: { action: string }) => h.action)).toEqual([
      'created',
      'promoted',
    ]);
    expect(history.json().items[1].details).toEqual({ seatNumbers: [1, 2] });
    // The booking's own versions, not the log's global position (platform-wide volume), nor the
    // event's count of accepted requests.
    expect(history.json().items[0].details).not.toHaveProperty('acceptedSeq');
    expect(history.json().items).toEqual([
      {
        version: 1,
        action: 'created',
        details: expect.objectContaining({ status: 'waiting', waitingNumber: 1, seats: 2 }),
        occurredAt: expect.any(String),
      },
      {
        version: 2,
        action: 'promoted',
        details: { seatNumbers: [1, 2] },
        occurredAt: expect.any(String),
      },
    ]);

    // cancelling twice is harmless and frees nothing again
    const again = await svc.call(a, 'POST', `/v1/bookings/${first.json().id}/cancel`, {});
    expect(again.statusCode).toBe(200);
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 3,
      availableSlots: 0,
      waitlistLength: 0,
    });
  });

  it('coalesces availability_changed per event with a growing sequence', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 30 });
    const users = await Promise.all(Array.from({ length: 20 }, () => svc.user()));
    await Promise.all(
      users.map((u) => svc.call(u, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })),
    );
    const coalesced = await eventually(() => {
      const found = svc.eventsOf('booking.availability_changed', (e) => e.data.eventId === eventId);
      const last = found[found.length - 1];
      return last && last.data.availableSlots === 10 && last.data.confirmedSeats === 20
        ? found
        : undefined;
    });
    expect(coalesced.length).toBeLessThan(10);
    expect(coalesced[coalesced.length - 1]?.data).toMatchObject({
      totalSlots: 30,
      confirmedSeats: 20,
      waitlistLength: 0,
    });
    const sequences = coalesced.map((e) => e.data.sequence);
    expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(sequences.length);
  });

  it('reads the availability it publishes after taking its sequence, so a later sequence never carries older figures', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 5 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    const ofEvent = (e: { data: { eventId: string } }) => e.data.eventId === eventId;
    // a's figures are announced (the opening's may have been, apart, before them).
    await eventually(() =>
      svc
        .eventsOf('booking.availability_changed', ofEvent)
        .some((e) => e.data.confirmedSeats === 1),
    );
    // Another replica publishing this event's availability holds its sequence row meanwhile; the
    // next announcement is the one after the sequence it holds.
    let heldSequence = 0;
    const held = await holdLock(svc.db, async (trx) => {
      const { rows } = await sql<{ sequence: number }>`
        SELECT sequence FROM availability_sequence WHERE event_id = ${eventId} FOR UPDATE`.execute(
        trx,
      );
      heldSequence = Number(rows[0]?.sequence);
    });
    svc.ctx.availability.touch(eventId);
    await eventually(async () => {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE 'insert into "availability_sequence"%'`.execute(svc.db);
      return (rows[0]?.n ?? 0) > 0;
    });
    // While it waits for its sequence, a seat goes.
    expect(
      (await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })).statusCode,
    ).toBe(201);
    await held.release();
    const next = await eventually(() =>
      svc
        .eventsOf('booking.availability_changed', ofEvent)
        .find((e) => e.data.sequence === heldSequence + 1),
    );
    expect(next.data).toMatchObject({ availableSlots: 3, confirmedSeats: 2 });
  });

  it('refuses more seats than the event has, even under a larger per-booking limit', async () => {
    // Such a request could never be confirmed; waiting, it would hold up everyone behind it.
    const { eventId } = await svc.openEvent({ totalSlots: 2, maxSeatsPerBooking: 4 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    const tooMany = await svc.book(a, eventId, 3);
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json()).toMatchObject({
      code: 'BOOKING_TOO_MANY_SEATS',
      maxSeatsPerBooking: 2,
    });
    expect((await svc.book(b, eventId, 2)).json()).toMatchObject({ status: 'confirmed' });
  });

  it('takes exactly the requested seats or answers BOOKING_SEATS_TAKEN', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 10 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    const ok = await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 2,
      seatNumbers: [5, 7],
    });
    expect(ok.json()).toMatchObject({ status: 'confirmed', seatNumbers: [5, 7] });
    const taken = await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 2,
      seatNumbers: [7, 8],
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('BOOKING_SEATS_TAKEN');
    const mismatch = await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 1,
      seatNumbers: [1, 2],
    });
    expect(mismatch.statusCode).toBe(422);
    const tooMany = await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 5 });
    expect(tooMany.json().code).toBe('BOOKING_TOO_MANY_SEATS');
    const bad = await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 0 });
    expect(bad.statusCode).toBe(400);
  });

  it.each([
    ['fifo', 409, undefined],
    ['first_fit', 201, 'confirmed'],
  ] as const)('with people waiting (%s), a free seat asked for by number is %s', async (waitlistPolicy, statusCode, status) => {
    const { eventId } = await svc.openEvent({
      totalSlots: 3,
      maxSeatsPerBooking: 3,
      waitlistPolicy,
    });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    expect((await svc.book(a, eventId, 2)).json()).toMatchObject({ seatNumbers: [1, 2] });
    expect((await svc.book(b, eventId, 2)).json()).toMatchObject({ status: 'waiting' });
    // Seat 3 is free; under fifo it is held for b, so it is not for sale, least of all by number
    // to someone who would otherwise wait and be given whatever seats a release frees.
    const named = await svc.call(c, 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 1,
      seatNumbers: [3],
    });
    expect(named.statusCode, named.body).toBe(statusCode);
    if (status) expect(named.json()).toMatchObject({ status, seatNumbers: [3] });
    else expect(named.json().code).toBe('BOOKING_SEATS_TAKEN');
  });

  it("pages the booked seats in seat order, so a big event's seat map comes in parts", async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 20 });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    for (const [person, seatNumbers] of [
      [a, [9, 3]],
      [b, [12]],
      [c, [1, 4]],
    ] as const) {
      const booked = await svc.call(person, 'POST', `/v1/events/${eventId}/bookings`, {
        seats: seatNumbers.length,
        seatNumbers,
      });
      expect(booked.statusCode).toBe(201);
    }
    const pages: number[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
      const page = await svc.call(a, 'GET', `/v1/events/${eventId}/seats?${query}`);
      expect(page.statusCode).toBe(200);
      pages.push(page.json().bookedSeats);
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(pages).toEqual([[1, 3], [4, 9], [12]]);
    const whole = await svc.call(a, 'GET', `/v1/events/${eventId}/seats`);
    expect(whole.json()).toEqual({ bookedSeats: [1, 3, 4, 9, 12], nextCursor: null });

    for (const query of [
      'limit=0',
      'limit=10001',
      'limit=0x10',
      'limit=1e3',
      'cursor=not-a-cursor',
    ]) {
      const bad = await svc.call(a, 'GET', `/v1/events/${eventId}/seats?${query}`);
      expect(bad.statusCode, query).toBe(400);
    }
  });

  it('a booking of the same person in flight elsewhere answers 409 BOOKING_IN_PROGRESS; answered bookings leave no lock', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 5 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    await svc.redis.set(bookingLockKey(eventId, a.sub), 'another-replica', 'PX', 5_000);
    const blocked = await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json().code).toBe('BOOKING_IN_PROGRESS');
    // The refused request does not release a lock it never held.
    expect(await svc.redis.get(bookingLockKey(eventId, a.sub))).toBe('another-replica');
    await svc.redis.del(bookingLockKey(eventId, a.sub));
    const booked = await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    expect(booked.statusCode).toBe(201);
    const refused = await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 9 });
    expect(refused.statusCode).toBe(422);
    expect(
      await svc.redis.exists(bookingLockKey(eventId, a.sub), bookingLockKey(eventId, b.sub)),
    ).toBe(0);
  });

  it('one active booking per person: a second gets 409 with the existing id; 10 at once make one', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 50 });
    const a = await svc.user();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 }),
      ),
    );
    const created = responses.filter((r) => r.statusCode === 201);
    expect(created).toHaveLength(1);
    for (const r of responses.filter((r) => r.statusCode !== 201)) {
      expect(r.statusCode).toBe(409);
      expect(['BOOKING_IN_PROGRESS', 'BOOKING_ALREADY_EXISTS']).toContain(r.json().code);
    }
    const rows = await svc.db
      .selectFrom('bookings')
      .selectAll()
      .where('event_id', '=', eventId)
      .execute();
    expect(rows).toHaveLength(1);
    const later = await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    expect(later.json()).toMatchObject({
      code: 'BOOKING_ALREADY_EXISTS',
      bookingId: created[0]!.json().id,
    });
    expect(
      (await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json().availableSlots,
    ).toBe(49);
  });

  // The lock has a TTL: a request paused past it (a long GC, a slow Postgres) no longer holds it
  // when the next one takes it. Every lock here is taken as if the last holder's had run out.
  it('one active booking per person holds in Postgres alone when the person lock is outlived', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 50 });
    const a = await svc.user();
    const inventory = svc.ctx.inventory;
    const lockAll = inventory.lockAll;
    inventory.lockAll = async (locks) => locks.map(() => true);
    try {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 }),
        ),
      );
      expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(1);
      for (const r of responses.filter((r) => r.statusCode !== 201)) {
        expect(r.json()).toMatchObject({ status: 409, code: 'BOOKING_ALREADY_EXISTS' });
      }
    } finally {
      inventory.lockAll = lockAll;
    }
    const rows = await svc.db
      .selectFrom('bookings')
      .select('status')
      .where('event_id', '=', eventId)
      .execute();
    expect(rows).toEqual([{ status: 'confirmed' }]);
    // The nine refused gave their seats back.
    const availability = await svc.call(a, 'GET', `/v1/events/${eventId}/availability`);
    expect(availability.json()).toMatchObject({ availableSlots: 49 });
    await expectConsistent(svc, eventId, 50, 'fifo');
  });

  it('an event id written in capitals books the same inventory', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    const upper = `/v1/events/${eventId.toUpperCase()}/bookings`;
    const held = await svc.call(a, 'POST', upper, { seats: 1 });
    expect(held.json()).toMatchObject({ eventId, status: 'confirmed', seatNumbers: [1] });
    const waiting = await svc.call(b, 'POST', upper, { seats: 1 });
    expect(waiting.json()).toMatchObject({ eventId, status: 'waiting' });
    await expectConsistent(svc, eventId, 1, 'fifo');

    expect(
      (await svc.call(a, 'POST', `/v1/bookings/${held.json().id}/cancel`, {})).statusCode,
    ).toBe(200);
    const promoted = await svc.call(b, 'GET', `/v1/bookings/${waiting.json().id}`);
    expect(promoted.json()).toMatchObject({ status: 'confirmed', seatNumbers: [1] });
    await expectConsistent(svc, eventId, 1, 'fifo');
  });

  it('completes an Idempotency-Key with its booking: nothing is booked when the key cannot be', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [holder, late] = await Promise.all([svc.user(), svc.user()]);
    expect(
      (await svc.call(holder, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })).statusCode,
    ).toBe(201);
    const key = randomUUID();
    const post = () =>
      svc.call(
        late,
        'POST',
        `/v1/events/${eventId}/bookings`,
        { seats: 1 },
        {
          'idempotency-key': key,
        },
      );
    // Completing this key fails inside Postgres (a crash right after the commit would leave it
    // pending the same way if it were completed after the booking's transaction).
    const failed = await withFailingWrites(svc.db, idempotencyKeyCompletionFails(key), post);
    expect(failed.statusCode).toBe(500);
    const lateBookings = () =>
      svc.db
        .selectFrom('bookings')
        .select('id')
        .where('event_id', '=', eventId)
        .where('user_id', '=', late.sub)
        .execute();
    expect(await lateBookings()).toEqual([]);
    await expectConsistent(svc, eventId, 1, 'fifo');
    const retried = await post();
    expect(retried.statusCode).toBe(201);
    expect(retried.json()).toMatchObject({ status: 'waiting', waitlistPosition: 1 });
    const replayed = await post();
    expect(replayed.statusCode).toBe(201);
    expect(replayed.json()).toEqual(retried.json());
    expect(await lateBookings()).toHaveLength(1);
  });

  it('replays each answer of keyed bookings that shared a transaction', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 4 });
    const people = await Promise.all(Array.from({ length: 8 }, () => svc.user()));
    const post = (person: TestUser) =>
      svc.call(
        person,
        'POST',
        `/v1/events/${eventId}/bookings`,
        { seats: 1 },
        {
          'idempotency-key': `batch-${person.sub}`,
        },
      );
    const firsts = await Promise.all(people.map(post));
    const replays = await Promise.all(people.map(post));
    expect(firsts.map((answer) => answer.statusCode)).toEqual(people.map(() => 201));
    expect(replays.map((answer) => answer.json())).toEqual(firsts.map((answer) => answer.json()));
    expect(firsts.filter((answer) => answer.json().status === 'confirmed')).toHaveLength(4);
  });

  it('an Idempotency-Key replay returns the original booking', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 5 });
    const a = await svc.user();
    const headers = { 'idempotency-key': 'book-once' };
    const first = await svc.call(
      a,
      'POST',
      `/v1/events/${eventId}/bookings`,
      { seats: 2 },
      headers,
    );
    const replay = await svc.call(
      a,
      'POST',
      `/v1/events/${eventId}/bookings`,
      { seats: 2 },
      headers,
    );
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(first.json());
    // The first answer and its replay name the booking alike, though only the body is stored.
    expect(first.headers.location).toBe(`/v1/bookings/${first.json().id}`);
    expect(replay.headers.location).toBe(first.headers.location);
    const located = await svc.call(a, 'GET', first.headers.location as string);
    expect(located.statusCode).toBe(200);
    expect(located.json().id).toBe(first.json().id);
    const other = await svc.call(
      a,
      'POST',
      `/v1/events/${eventId}/bookings`,
      { seats: 1 },
      headers,
    );
    expect(other.statusCode).toBe(422);
    const malformed = await svc.call(
      a,
      'POST',
      `/v1/events/${eventId}/bookings`,
      { seats: 1 },
      { 'idempotency-key': 'has spaces' },
    );
    expect(malformed.statusCode).toBe(400);
    expect(JSON.stringify(malformed.json())).toContain('idempotency-key');
  });

  it('answers a key reused for another request 422 and one still running 409, as documented', async () => {
    const documented = readFileSync(
      fileURLToPath(new URL('../../../docs/services/booking.md', import.meta.url)),
      'utf8',
    );
    const expectDocumented = (answer: { statusCode: number; json(): { code: string } }) =>
      expect(documented).toContain(`\`${answer.json().code}\` ${answer.statusCode}`);
    const [event, other] = [await svc.openEvent(), await svc.openEvent()];
    const a = await svc.user();
    const key = { 'idempotency-key': `key-${randomUUID()}` };
    const post = (eventId: string, seats: number) =>
      svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats }, key);

    // A rebuild holds the event, so the first request waits with its key claimed.
    const rebuild = await holdLock(svc.db, (trx) => lockEventExclusive(trx, event.eventId));
    const first = post(event.eventId, 1);
    try {
      await eventually(async () => {
        const claim = await svc.db
          .selectFrom('idempotency_keys')
          .select('status')
          .where('key', '=', key['idempotency-key'])
          .executeTakeFirst();
        return claim?.status === 'pending';
      });
      const running = await post(event.eventId, 1);
      expect(running.statusCode).toBe(409);
      expect(running.json().code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
      expectDocumented(running);
    } finally {
      await rebuild.release();
    }
    expect((await first).statusCode).toBe(201);

    for (const reused of [await post(event.eventId, 2), await post(other.eventId, 1)]) {
      expect(reused.statusCode).toBe(422);
      expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
      expectDocumented(reused);
    }
    expect((await post(event.eventId, 1)).json()).toEqual((await first).json());
  });

  it('refuses unknown body fields and NUL characters with 400 naming them, booking nothing', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 10 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    // A misspelt `seatNumbers` must not book the lowest seats instead of the ones asked for.
    const typo = await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 1,
      seatnumbers: [7],
    });
    expect(typo.statusCode).toBe(400);
    expect(typo.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'body.seatnumbers', message: expect.stringContaining('seatnumbers') }],
    });
    expect((await svc.call(a, 'GET', '/v1/me/bookings')).json().items).toEqual([]);

    const booking = (
      await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })
    ).json();
    const cancel = `/v1/bookings/${booking.id}/cancel`;
    const extra = await svc.call(b, 'POST', cancel, { note: 'sorry', reason: 'ill' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'body.reason', message: expect.stringContaining('reason') }],
    });
    const nul = await svc.call(b, 'POST', cancel, { note: 'sorry\u0000' });
    expect(nul.statusCode).toBe(400);
    expect(nul.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'body.note', message: expect.any(String) }],
    });
    expect((await svc.call(b, 'GET', `/v1/bookings/${booking.id}`)).json().status).toBe(
      'confirmed',
    );
  });

  it("shows who cancelled to the organization's staff, and to a booker only when it was them", async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 10 });
    const [organizer, booker, other] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.join(organizer, orgId, 'organizer');
    const byStaff = (await svc.book(booker, eventId, 1)).json();
    const own = (await svc.book(other, eventId, 1)).json();
    expect(
      (await svc.call(organizer, 'POST', `/v1/bookings/${byStaff.id}/cancel`, {})).statusCode,
    ).toBe(200);
    expect((await svc.call(other, 'POST', `/v1/bookings/${own.id}/cancel`, {})).statusCode).toBe(
      200,
    );
    const cancellation = async (who: TestUser, bookingId: string) =>
      (await svc.call(who, 'GET', `/v1/bookings/${bookingId}/history`))
        .json()
        .items.find((entry: { action: string }) => entry.action === 'cancelled').details;

    const seenByBooker = await cancellation(booker, byStaff.id);
    expect(seenByBooker).toMatchObject({ reason: 'by_organizer' });
    expect(seenByBooker).not.toHaveProperty('cancelledBy');
    expect(await cancellation(organizer, byStaff.id)).toMatchObject({
      reason: 'by_organizer',
      cancelledBy: organizer.sub,
    });
    expect(await cancellation(other, own.id)).toMatchObject({
      reason: 'by_owner',
      cancelledBy: other.sub,
    });
  });

  it('pages through bookings that share a created_at (one batch) without skipping any', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 10 });
    const organizer = await svc.user();
    await svc.join(organizer, orgId, 'organizer');
    const people = await Promise.all(Array.from({ length: 5 }, () => svc.user()));
    for (const person of people)
      await svc.call(person, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    // As one batch's transaction stamps them: one timestamp, to the microsecond.
    await sql`UPDATE bookings SET created_at = '2026-01-01 10:00:00.123456+00'
              WHERE event_id = ${eventId}`.execute(svc.db);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await svc.call(
        organizer,
        'GET',
        `/v1/events/${eventId}/bookings?limit=2${query}`,
      );
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().items.map((item: { userId: string }) => item.userId));
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(people.map((person) => person.sub).sort());
  });

  it('lists my bookings and the event bookings for staff, filtered by status', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 1 });
    const [a, b, organizer] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.join(organizer, orgId, 'organizer');
    await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    const mine = await svc.call(a, 'GET', '/v1/me/bookings?status=confirmed');
    expect(mine.json().items).toHaveLength(1);
    expect(mine.json().items[0]).toMatchObject({ eventId, userId: a.sub });
    const waiting = await svc.call(
      organizer,
      'GET',
      `/v1/events/${eventId}/bookings?status=waiting`,
    );
    expect(waiting.json().items.map((i: { userId: string }) => i.userId)).toEqual([b.sub]);
    const page = await svc.call(organizer, 'GET', `/v1/events/${eventId}/bookings?limit=1`);
    expect(page.json().items).toHaveLength(1);
    const next = await svc.call(
      organizer,
      'GET',
      `/v1/events/${eventId}/bookings?limit=1&cursor=${page.json().nextCursor}`,
    );
    expect(next.json().items).toHaveLength(1);
    expect(next.json().nextCursor).toBeNull();
    // A well-formed cursor whose timestamp the database could not take is refused, not a 500.
    const forgedTimestamps = [
      'x',
      '2026-02-30T00:00:00Z',
      '2026-01-01 10:00:00+16',
      '2026-01-01 10:00:00-99:00',
      '2026-01-01 10:00:00+15:60',
    ];
    for (const createdAt of forgedTimestamps) {
      const forged = Buffer.from(JSON.stringify({ createdAt, id: eventId })).toString('base64url');
      for (const [who, list] of [
        [a, '/v1/me/bookings'],
        [organizer, `/v1/events/${eventId}/bookings`],
      ] as const) {
        const refused = await svc.call(who, 'GET', `${list}?cursor=${forged}`);
        expect(refused.statusCode, `${list} ${createdAt}`).toBe(400);
        expect(refused.json().code).toBe('INVALID_CURSOR');
      }
    }
  });
});
