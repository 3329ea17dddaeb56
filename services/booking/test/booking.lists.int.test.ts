import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBookingsQuery } from '../src/modules/booking/booking.repository.ts';
import { type Booking, startBooking, type TestUser } from './harness.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

/** Every page of a list, followed by its cursors, as ids in the order they came. */
async function readAll(who: TestUser, list: string, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const page = await svc.call(who, 'GET', `${list}?limit=${limit}${query}`);
    expect(page.statusCode, page.body).toBe(200);
    expect(page.json().items.length).toBeLessThanOrEqual(limit);
    seen.push(...page.json().items.map((item: { id: string }) => item.id));
    cursor = page.json().nextCursor;
  } while (cursor);
  return seen;
}

type PlanNode = {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
};

/** Each scan of `bookings` in a plan, with the node types above it (nearest last). */
function bookingScans(node: PlanNode, above: string[] = []): { scan: PlanNode; above: string[] }[] {
  const here = node['Relation Name'] === 'bookings' ? [{ scan: node, above }] : [];
  return [
    ...here,
    ...(node.Plans ?? []).flatMap((child) => bookingScans(child, [...above, node['Node Type']])),
  ];
}

/**
 * Asserts every scan of `bookings` reads `index` in page order and stops after a page: its
 * nearest Limit or Sort above it is a Limit. A Sort over a whole event's bookings (O(N) a page)
 * fails it; one over the few rows each status gave is fine.
 */
async function expectPagedThrough(query: ReturnType<typeof listBookingsQuery>, index: string) {
  const compiled = query.compile();
  const { rows } = await svc.db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${compiled.sql}`, [...compiled.parameters]),
  );
  const plan = rows[0]!['QUERY PLAN'][0].Plan;
  const scans = bookingScans(plan);
  expect(scans.length, JSON.stringify(plan)).toBeGreaterThan(0);
  for (const { scan, above } of scans) {
    expect(scan['Node Type'], JSON.stringify(plan)).toMatch(/^Index (Only )?Scan$/);
    expect(scan['Index Name']).toBe(index);
    const bound = above.filter((type) => type === 'Limit' || type.endsWith('Sort')).at(-1);
    expect(bound, JSON.stringify(plan)).toBe('Limit');
  }
}

describe('booking lists', () => {
  it("pages through an event's confirmed, waiting and cancelled bookings in order, each once", async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 3 });
    const organizer = await svc.user();
    await svc.join(organizer, orgId, 'organizer');
    const people = await Promise.all(Array.from({ length: 9 }, () => svc.user()));
    const ids: string[] = [];
    for (const person of people) {
      const booked = await svc.book(person, eventId, 1);
      expect(booked.statusCode).toBe(201);
      ids.push(booked.json().id);
    }
    // Three confirmed, six waiting; cancel one confirmed (the head of the line is promoted) and
    // two waiting.
    for (const k of [0, 5, 7]) {
      const cancelled = await svc.call(people[k]!, 'POST', `/v1/bookings/${ids[k]}/cancel`, {});
      expect(cancelled.statusCode).toBe(200);
    }
    // Three timestamps, each shared by bookings of different statuses (as one batch's
    // transaction stamps them), so pages end inside ties that only the id breaks.
    await sql`
      UPDATE bookings b SET created_at = '2026-01-01 10:00:00.123456+00'::timestamptz
        + (o.n % 3) * interval '1 microsecond'
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM bookings
            WHERE event_id = ${eventId}) o
      WHERE b.id = o.id`.execute(svc.db);
    const expected = await svc.db
      .selectFrom('bookings')
      .select(['id', 'status'])
      .where('event_id', '=', eventId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    expect(new Set(expected.map((b) => b.status))).toEqual(
      new Set(['confirmed', 'waiting', 'cancelled']),
    );
    for (const limit of [1, 2, 4, 100]) {
      const seen = await readAll(organizer, `/v1/events/${eventId}/bookings`, limit);
      expect(seen, `limit ${limit}`).toEqual(expected.map((b) => b.id));
    }
  });

  it('reads a page of an event through bookings_event_idx, never sorting all its bookings', async () => {
    const eventId = randomUUID();
    const orgId = randomUUID();
    // Enough bookings, of this event and of others, that reading the event whole costs more
    // than reading a page, as in production (on a near-empty table any plan is cheap and a seq
    // scan may win); the table's statistics are refreshed so the planner knows it.
    await sql`
      INSERT INTO bookings (id, event_id, org_id, user_id, seats, status, version, created_at)
      SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad((i % 300)::text, 12, '0'))::uuid,
        ${orgId}, 'other-' || i, 1, 'cancelled', 2,
        '2026-01-01 10:00:00+00'::timestamptz + i * interval '100 milliseconds'
      FROM generate_series(1, 30000) AS i`.execute(svc.db);
    await sql`
      INSERT INTO bookings (id, event_id, org_id, user_id, seats, status, waiting_number,
                            version, created_at)
      SELECT gen_random_uuid(), ${eventId}, ${orgId}, 'user-' || i, 1,
        (ARRAY['confirmed', 'waiting', 'cancelled'])[i % 3 + 1],
        CASE WHEN i % 3 = 1 THEN i END, 1,
        '2026-01-01 10:00:00+00'::timestamptz + i * interval '1 second'
      FROM generate_series(1, 3000) AS i`.execute(svc.db);
    await sql`ANALYZE bookings`.execute(svc.db);
    const last = await svc.db
      .selectFrom('bookings')
      .select([sql<string>`created_at::text`.as('createdAt'), 'id'])
      .where('event_id', '=', eventId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .offset(100)
      .limit(1)
      .executeTakeFirstOrThrow();

    for (const after of [undefined, last]) {
      await expectPagedThrough(
        listBookingsQuery(svc.db, { eventId }, { limit: 20, after }),
        'bookings_event_idx',
      );
      for (const status of ['confirmed', 'waiting', 'cancelled'] as const) {
        await expectPagedThrough(
          listBookingsQuery(svc.db, { eventId, status }, { limit: 20, after }),
          'bookings_event_idx',
        );
      }
    }
  });

  it("reads a page of a caller's bookings through bookings_user_idx, never sorting them all", async () => {
    // /v1/me/bookings without a status: (user_id, created_at, id) is the page's order already.
    const userId = `heavy-${randomUUID()}`;
    await sql`
      INSERT INTO bookings (id, event_id, org_id, user_id, seats, status, waiting_number,
                            version, created_at)
      SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), ${userId}, 1, 'cancelled',
        NULL, 2, '2026-01-01 10:00:00+00'::timestamptz + i * interval '1 second'
      FROM generate_series(1, 3000) AS i`.execute(svc.db);
    await sql`ANALYZE bookings`.execute(svc.db);
    const after = { createdAt: '2026-01-01 10:30:00+00', id: randomUUID() };
    for (const page of [{ limit: 20 }, { limit: 20, after }]) {
      await expectPagedThrough(listBookingsQuery(svc.db, { userId }, page), 'bookings_user_idx');
    }
  });
});

describe('a booking read while a cancellation commits', () => {
  // A session holding booking_seats lets the read take the booking's row and then wait for its
  // seats; the session then commits what a cancellation writes to both. A read in one snapshot
  // shows the booking as it was when it began, seats and all, never confirmed without its seats.
  it.each([
    ['GET /v1/bookings/{id}', (id: string) => `/v1/bookings/${id}`],
    ['GET /v1/me/bookings', () => '/v1/me/bookings'],
  ])('%s shows it confirmed with its seats or cancelled, never a mix', async (_, path) => {
    const { eventId } = await svc.openEvent({ totalSlots: 5 });
    const owner = await svc.user();
    const booked = (await svc.book(owner, eventId, 2)).json();
    expect(booked).toMatchObject({ status: 'confirmed', seatNumbers: [1, 2] });

    const { reading } = await svc.db.transaction().execute(async (trx) => {
      await sql`LOCK TABLE booking_seats IN ACCESS EXCLUSIVE MODE`.execute(trx);
      const read = svc.call(owner, 'GET', path(booked.id));
      await eventually(async () => {
        const { rows } = await sql<{ n: string }>`
          SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE c.relname = 'booking_seats' AND NOT l.granted`.execute(svc.db);
        return Number(rows[0]?.n) > 0;
      });
      await sql`UPDATE bookings SET status = 'cancelled', cancelled_reason = 'by_owner'
                WHERE id = ${booked.id}`.execute(trx);
      await sql`UPDATE booking_seats SET status = 'released'
                WHERE booking_id = ${booked.id}`.execute(trx);
      // Not the promise itself: the transaction would wait for it before committing.
      return { reading: read };
    });
    const read = await reading;
    expect(read.statusCode, read.body).toBe(200);
    const body = read.json();
    const view = 'items' in body ? body.items[0] : body;
    expect(view).toMatchObject({ id: booked.id, status: 'confirmed', seatNumbers: [1, 2] });
  });
});

describe('list query parameters', () => {
  it('refuses an unknown or misspelt parameter on every list, naming it, instead of ignoring it', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 5 });
    const organizer = await svc.user();
    await svc.join(organizer, orgId, 'organizer');
    const owner = await svc.user();
    expect((await svc.book(owner, eventId, 1)).statusCode).toBe(201);
    const cases: [TestUser, string, string][] = [
      // Answered with the unfiltered list before: the filter is `status`.
      [owner, '/v1/me/bookings?Status=cancelled', 'Status'],
      [organizer, `/v1/events/${eventId}/bookings?limit=5&stauts=waiting`, 'stauts'],
      [organizer, `/v1/events/${eventId}/seats?status=taken`, 'status'],
    ];
    for (const [who, url, key] of cases) {
      const res = await svc.call(who, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path: `query.${key}`, message: expect.stringContaining(key) }],
      });
    }
    const listed = await svc.call(owner, 'GET', '/v1/me/bookings?status=confirmed&limit=5');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items).toHaveLength(1);
  });
});
