import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStatus } from '../src/modules/events/event.model.ts';
import { statusAt } from '../src/modules/lifecycle/lifecycle.policy.ts';
import { type Catalog, eventBody, inDays, startCatalog, type TestUser } from './harness.ts';

let catalog: Catalog;
let organizer: TestUser;
const orgId = randomUUID();
// Every test sets the catalog's clock; times are taken from this instant, not from the real clock.
const now = new Date();
const inHours = (hours: number, from = now) => new Date(from.getTime() + hours * 3_600_000);

beforeAll(async () => {
  catalog = await startCatalog();
  organizer = await catalog.user();
  await catalog.join(organizer, orgId, 'organizer');
});
afterAll(() => catalog?.stop());

const create = (overrides: Record<string, unknown> = {}) =>
  catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, {
    ...eventBody({ startsAt: inDays(10, now), endsAt: inDays(10.2, now) }),
    ...overrides,
  });

function publishedEvent(overrides: Record<string, unknown> = {}) {
  catalog.clock.set(now);
  return catalog.publishedEvent(organizer, orgId, {
    startsAt: inDays(10, now),
    endsAt: inDays(10.2, now),
    ...overrides,
  });
}

const patch = (id: string, body: Record<string, unknown>) =>
  catalog.call(organizer, 'PATCH', `/v1/events/${id}`, body, { 'if-match': '*' });

const current = async (id: string) =>
  (await catalog.call(organizer, 'GET', `/v1/events/${id}`)).json();

/** The status in the row, which only commands and the lifecycle job change. */
const storedStatus = async (id: string) =>
  (await catalog.db.selectFrom('events').select('status').where('id', '=', id).executeTakeFirst())
    ?.status;

/** Outbox rows about the event: whatever the catalog publishes about it is written there first. */
async function outboxRowsAbout(id: string) {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM outbox WHERE aggregate_id = ${id}
  `.execute(catalog.db);
  return rows[0]?.n ?? 0;
}

/** Sends each refused PATCH and checks the event and its outbox rows stay as they were. */
async function expectRefusedUnchanged(
  id: string,
  refusals: { body: Record<string, unknown>; status: number; code: string; path: string }[],
) {
  const before = await current(id);
  const rowsBefore = await outboxRowsAbout(id);
  for (const { body, status, code, path } of refusals) {
    const res = await patch(id, body);
    expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(status);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe(code);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual([path]);
  }
  expect(await current(id)).toEqual(before);
  expect(await outboxRowsAbout(id)).toBe(rowsBefore);
}

describe('seats per booking never exceed the event’s slots', () => {
  it('defaults to 10, or to totalSlots when the event has fewer', async () => {
    catalog.clock.set(now);
    const small = await create({ totalSlots: 4 });
    expect(small.statusCode, small.body).toBe(201);
    expect(small.json()).toMatchObject({ totalSlots: 4, maxSeatsPerBooking: 4 });
    const [created] = await catalog.eventsAbout(small.json().id, 'catalog.event_created');
    expect(created?.data).toMatchObject({ totalSlots: 4, maxSeatsPerBooking: 4 });

    const large = await create({ totalSlots: 40 });
    expect(large.json()).toMatchObject({ totalSlots: 40, maxSeatsPerBooking: 10 });
  });

  it('refuses a create with more seats per booking than slots, naming the field', async () => {
    catalog.clock.set(now);
    const name = `Too many ${randomUUID().slice(0, 6)}`;
    const res = await create({ name, totalSlots: 4, maxSeatsPerBooking: 5 });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'body.maxSeatsPerBooking', message: 'must be at most totalSlots (4)' }],
    });
    const named = await catalog.db
      .selectFrom('events')
      .select('id')
      .where('name', '=', name)
      .execute();
    expect(named).toEqual([]);

    const exact = await create({ totalSlots: 4, maxSeatsPerBooking: 4 });
    expect(exact.statusCode, exact.body).toBe(201);
  });

  it('caps at publish a draft stored with more seats per booking than slots', async () => {
    catalog.clock.set(now);
    const draft = (await create({ totalSlots: 4, maxSeatsPerBooking: 4 })).json();
    // As a draft stored before the rule: only SQL can write it now.
    await catalog.db
      .updateTable('events')
      .set({ max_seats_per_booking: 10 })
      .where('id', '=', draft.id)
      .execute();
    expect((await current(draft.id)).maxSeatsPerBooking).toBe(10);

    const published = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/publish`);
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({ totalSlots: 4, maxSeatsPerBooking: 4, version: 2 });
    const [announced] = await catalog.eventsAbout(draft.id, 'catalog.event_published');
    expect(announced?.data).toMatchObject({ totalSlots: 4, maxSeatsPerBooking: 4 });
    expect(await current(draft.id)).toMatchObject({ maxSeatsPerBooking: 4, version: 2 });
  });

  it('refuses a PATCH whose merged event has more seats per booking than slots', async () => {
    const event = await publishedEvent({ totalSlots: 100, maxSeatsPerBooking: 10 });
    const refused = { status: 400, code: 'VALIDATION_FAILED', path: 'body.maxSeatsPerBooking' };
    await expectRefusedUnchanged(event.id, [
      { body: { totalSlots: 8 }, ...refused },
      { body: { totalSlots: 15, maxSeatsPerBooking: 20 }, ...refused },
    ]);

    const lowered = await patch(event.id, { totalSlots: 8, maxSeatsPerBooking: 8 });
    expect(lowered.statusCode, lowered.body).toBe(200);
    expect(lowered.json()).toMatchObject({ totalSlots: 8, maxSeatsPerBooking: 8 });
    const raised = await patch(event.id, { maxSeatsPerBooking: 9 });
    expect(raised.statusCode, raised.body).toBe(400);
    expect(raised.json().errors).toEqual([
      { path: 'body.maxSeatsPerBooking', message: 'must be at most totalSlots (8)' },
    ]);
  });
});

/** An event whose end passed: a new end is refused (not editable), and so is a cancellation. */
async function expectNeitherRevivedNorCancelled(id: string) {
  const revived = await patch(id, { endsAt: inHours(40).toISOString() });
  expect(revived.statusCode, revived.body).toBe(422);
  expect(revived.json().code).toBe('EVENT_NOT_EDITABLE');
  const cancelled = await catalog.call(organizer, 'POST', `/v1/events/${id}/cancel`, {
    reason: 'too late',
  });
  expect(cancelled.statusCode, cancelled.body).toBe(422);
  expect(cancelled.json().code).toBe('ILLEGAL_TRANSITION');
}

describe('times of a published event fit its status', () => {
  it('refuses to move an upcoming event to a start that is not in the future', async () => {
    const event = await publishedEvent();
    const refused = { status: 422, code: 'EVENT_START_IN_PAST', path: 'body.startsAt' };
    await expectRefusedUnchanged(event.id, [
      { body: { startsAt: now.toISOString() }, ...refused },
      { body: { startsAt: inHours(-1).toISOString() }, ...refused },
    ]);
    // The clock leaves it where it was.
    await catalog.runtime.runLifecycle();
    expect((await current(event.id)).status).toBe('upcoming');

    const moved = await patch(event.id, { startsAt: inHours(1).toISOString() });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ status: 'upcoming', startsAt: inHours(1).toISOString() });
  });

  it('lets a draft take a start in the past: publishing checks it', async () => {
    catalog.clock.set(now);
    const draft = (await create()).json();
    const moved = await patch(draft.id, { startsAt: inHours(-1).toISOString() });
    expect(moved.statusCode, moved.body).toBe(200);
    const published = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/publish`);
    expect(published.statusCode).toBe(422);
    expect(published.json().code).toBe('EVENT_START_IN_PAST');
  });

  it('refuses a new start for an ongoing event, and an end that is not in the future', async () => {
    const event = await publishedEvent({
      startsAt: inHours(24).toISOString(),
      endsAt: inHours(30).toISOString(),
    });
    const during = inHours(25);
    catalog.clock.set(during);
    await catalog.runtime.runLifecycle();
    expect((await current(event.id)).status).toBe('ongoing');

    const startFixed = { status: 422, code: 'EVENT_ALREADY_STARTED', path: 'body.startsAt' };
    const endInPast = { status: 422, code: 'EVENT_END_IN_PAST', path: 'body.endsAt' };
    await expectRefusedUnchanged(event.id, [
      { body: { startsAt: inHours(26).toISOString() }, ...startFixed },
      { body: { startsAt: inHours(23).toISOString() }, ...startFixed },
      { body: { endsAt: during.toISOString() }, ...endInPast },
      { body: { endsAt: inHours(24.5).toISOString() }, ...endInPast },
    ]);
    // The clock leaves it where it was.
    await catalog.runtime.runLifecycle();
    expect((await current(event.id)).status).toBe('ongoing');

    const extended = await patch(event.id, {
      startsAt: event.startsAt,
      endsAt: inHours(32).toISOString(),
    });
    expect(extended.statusCode, extended.body).toBe(200);
    expect(extended.json()).toMatchObject({ status: 'ongoing', endsAt: inHours(32).toISOString() });
  });

  it('judges the status the clock implies, before the lifecycle job has run', async () => {
    const event = await publishedEvent({
      startsAt: inHours(24).toISOString(),
      endsAt: inHours(30).toISOString(),
    });
    // Started by the clock, still stored as upcoming: the rules of an ongoing event apply.
    catalog.clock.set(inHours(25));
    expect(await storedStatus(event.id)).toBe('upcoming');
    await expectRefusedUnchanged(event.id, [
      {
        body: { endsAt: inHours(24.5).toISOString() },
        status: 422,
        code: 'EVENT_END_IN_PAST',
        path: 'body.endsAt',
      },
      {
        body: { startsAt: inHours(26).toISOString() },
        status: 422,
        code: 'EVENT_ALREADY_STARTED',
        path: 'body.startsAt',
      },
    ]);

    // Ended by the clock, still stored as upcoming: a completed event, neither edited nor cancelled.
    catalog.clock.set(inHours(31));
    const before = await current(event.id);
    expect(await storedStatus(event.id)).toBe('upcoming');
    await expectNeitherRevivedNorCancelled(event.id);
    expect(await current(event.id)).toEqual(before);

    await catalog.runtime.runLifecycle();
    expect((await current(event.id)).status).toBe('completed');
  });

  it('refuses to revive an ongoing event whose end passed before the clock completed it', async () => {
    const event = await publishedEvent({
      startsAt: inHours(24).toISOString(),
      endsAt: inHours(30).toISOString(),
    });
    catalog.clock.set(inHours(25));
    await catalog.runtime.runLifecycle();
    expect((await current(event.id)).status).toBe('ongoing');

    catalog.clock.set(inHours(31));
    await expectNeitherRevivedNorCancelled(event.id);
    expect(await storedStatus(event.id)).toBe('ongoing');
  });
});

describe('the public listing and the clock', () => {
  it('leaves out an event that has ended, before the lifecycle job marked it completed', async () => {
    const event = await publishedEvent({
      startsAt: inHours(24).toISOString(),
      endsAt: inHours(30).toISOString(),
    });
    const listed = async () =>
      (
        (await catalog.call(organizer, 'GET', `/v1/events?orgId=${orgId}&limit=100`)).json()
          .items as { id: string }[]
      ).map((e) => e.id);
    expect(await listed()).toContain(event.id);
    catalog.clock.set(inHours(31));
    // No lifecycle run: the stored status still says upcoming.
    expect(await storedStatus(event.id)).toBe('upcoming');
    expect(await listed()).not.toContain(event.id);
  });
});

describe('reads and the clock', () => {
  const orgList = async (query: string) =>
    (
      (await catalog.call(organizer, 'GET', `/v1/orgs/${orgId}/events?limit=100&${query}`)).json()
        .items as { id: string; status: string }[]
    ).map((e) => e.id);

  it('answer the status the clock implies, and the seats it shows, before the job runs', async () => {
    const event = await publishedEvent({
      startsAt: inHours(24).toISOString(),
      endsAt: inHours(30).toISOString(),
    });
    await catalog.publish(
      'booking.availability_changed',
      {
        eventId: event.id,
        orgId,
        totalSlots: 100,
        availableSlots: 0,
        confirmedSeats: 100,
        waitlistLength: 3,
        sequence: 1,
      },
      'booking',
      { type: 'event', id: event.id },
    );
    await eventually(
      async () => ((await current(event.id)).waitlistLength === 3 ? true : undefined),
      {
        what: 'the figures shown',
      },
    );

    // Started by the clock, still stored as upcoming.
    catalog.clock.set(inHours(25));
    expect(await current(event.id)).toMatchObject({ status: 'ongoing', waitlistLength: 3 });
    expect(await orgList('status=ongoing')).toContain(event.id);
    expect(await orgList('status=upcoming')).not.toContain(event.id);
    const renamed = await patch(event.id, { name: 'Late jazz' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ status: 'ongoing', name: 'Late jazz' });

    // Ended by the clock, still stored as upcoming: completed, as PATCH and cancel judge it.
    catalog.clock.set(inHours(31));
    const ended = await current(event.id);
    expect(ended).toMatchObject({ status: 'completed', availableSlots: 0, waitlistLength: 0 });
    await expectNeitherRevivedNorCancelled(event.id);
    expect(await orgList('status=completed')).toContain(event.id);
    expect(await orgList('status=ongoing')).not.toContain(event.id);
    const listed = await catalog.call(organizer, 'GET', `/v1/orgs/${orgId}/events?limit=100`);
    expect((listed.json().items as { id: string }[]).find((e) => e.id === event.id)).toMatchObject({
      status: 'completed',
      availableSlots: 0,
      waitlistLength: 0,
    });
    expect(await storedStatus(event.id)).toBe('upcoming');

    // The job changes what the reader sees only in its version (and the time of the change).
    await catalog.runtime.runLifecycle();
    const { version, updatedAt: _, ...shown } = ended;
    expect(await current(event.id)).toMatchObject({ ...shown, version: version + 2 });
  });

  it('filter the org list by that status, in pages, as the events show it', async () => {
    const matrixOrg = randomUUID();
    await catalog.join(organizer, matrixOrg, 'organizer');
    // At `at`: times ahead, started, ended, and exactly at the start or the end.
    const at = inHours(100);
    const spans = [
      [1, 2],
      [-1, 1],
      [-2, -1],
      [0, 1],
      [-1, 0],
    ].map(([from, to]) => [inHours(from!, at), inHours(to!, at)] as const);
    const stored = ['draft', 'upcoming', 'ongoing', 'completed', 'cancelled'] as const;
    catalog.clock.set(now);
    const rows: { id: string; status: EventStatus; startsAt: Date; endsAt: Date }[] = [];
    for (const status of stored) {
      for (const [startsAt, endsAt] of spans) {
        const body = eventBody({ startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString() });
        const res = await catalog.call(organizer, 'POST', `/v1/orgs/${matrixOrg}/events`, body);
        expect(res.statusCode, res.body).toBe(201);
        const { id } = res.json();
        if (status !== 'draft') {
          const published = await catalog.call(organizer, 'POST', `/v1/events/${id}/publish`);
          expect(published.statusCode, published.body).toBe(200);
        }
        // Stored as the job (or a cancel) would leave it, whatever the times say.
        if (status !== 'draft' && status !== 'upcoming') {
          await catalog.db.updateTable('events').set({ status }).where('id', '=', id).execute();
        }
        rows.push({ id, status, startsAt, endsAt });
      }
    }
    catalog.clock.set(at);
    const pages = async (query: string) => {
      const items: { id: string; status: string }[] = [];
      let cursor: string | null = null;
      do {
        const url = `/v1/orgs/${matrixOrg}/events?limit=2${query}${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await catalog.call(organizer, 'GET', url);
        expect(res.statusCode, res.body).toBe(200);
        items.push(...res.json().items);
        cursor = res.json().nextCursor;
      } while (cursor);
      return items;
    };

    const all = await pages('');
    expect(all).toHaveLength(rows.length);
    const implied = new Map(rows.map((row) => [row.id, statusAt(row, at)]));
    for (const item of all) expect(item.status, item.id).toBe(implied.get(item.id));
    for (const status of stored) {
      const filtered = await pages(`&status=${status}`);
      expect(filtered, status).toEqual(all.filter((item) => item.status === status));
    }
    // Ended ones stored as upcoming or ongoing are completed; started upcoming ones ongoing.
    expect(all.filter((item) => item.status === 'completed')).toHaveLength(9);
    expect(all.filter((item) => item.status === 'ongoing')).toHaveLength(5);
    expect(all.filter((item) => item.status === 'upcoming')).toHaveLength(1);
  });
});

describe("one clock for an event's times", () => {
  it('takes created, updated and published times from the service clock, a day ahead of Postgres', async () => {
    const ahead = inHours(24);
    catalog.clock.set(ahead);
    const created = await create({ startsAt: inDays(10, ahead), endsAt: inDays(10.2, ahead) });
    expect(created.statusCode, created.body).toBe(201);
    const { id, createdAt } = created.json();
    expect(createdAt).toBe(ahead.toISOString());

    catalog.clock.set(inHours(25));
    const patched = await patch(id, { name: 'Renamed' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ createdAt, updatedAt: inHours(25).toISOString() });
    expect(Date.parse(patched.json().updatedAt)).toBeGreaterThanOrEqual(Date.parse(createdAt));

    catalog.clock.set(inHours(26));
    const published = await catalog.call(organizer, 'POST', `/v1/events/${id}/publish`);
    expect(published.statusCode, published.body).toBe(200);
    const { publishedAt, updatedAt } = published.json();
    expect(publishedAt).toBe(inHours(26).toISOString());
    expect(Date.parse(publishedAt)).toBeLessThanOrEqual(Date.parse(updatedAt));
    expect(updatedAt).toBe(inHours(26).toISOString());

    // The lifecycle job's moves are dated by the same clock.
    const startsAt = new Date(published.json().startsAt);
    catalog.clock.set(startsAt);
    await catalog.runtime.runLifecycle();
    expect(await current(id)).toMatchObject({
      status: 'ongoing',
      version: published.json().version + 1,
      updatedAt: startsAt.toISOString(),
    });

    catalog.clock.set(inHours(1, startsAt));
    const cancelled = await catalog.call(organizer, 'POST', `/v1/events/${id}/cancel`, {
      reason: 'Storm',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({
      createdAt,
      publishedAt,
      updatedAt: inHours(1, startsAt).toISOString(),
    });
  });

  it('dates each event it publishes by the service clock, as the version it announces', async () => {
    // Three days ahead of the real time, so an event dated by it cannot pass by chance.
    const at = (hours: number) => inHours(72 + hours);
    catalog.clock.set(at(0));
    const created = await create({ startsAt: inDays(10, at(0)), endsAt: inDays(10.2, at(0)) });
    expect(created.statusCode, created.body).toBe(201);
    const { id, createdAt } = created.json();
    expect(createdAt).toBe(at(0).toISOString());
    const [createdEvent] = await catalog.eventsAbout(id, 'catalog.event_created');
    expect(createdEvent?.occurredAt).toBe(createdAt);

    // A draft's capacity is one more change in event_updated.
    catalog.clock.set(at(1));
    const draftPatched = await patch(id, { name: 'Renamed draft', totalSlots: 80 });
    expect(draftPatched.statusCode, draftPatched.body).toBe(200);
    expect(draftPatched.json().updatedAt).toBe(at(1).toISOString());
    const [draftUpdated] = await catalog.eventsAbout(id, 'catalog.event_updated');
    expect(draftUpdated?.occurredAt).toBe(draftPatched.json().updatedAt);

    catalog.clock.set(at(2));
    const published = await catalog.call(organizer, 'POST', `/v1/events/${id}/publish`);
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({
      publishedAt: at(2).toISOString(),
      updatedAt: at(2).toISOString(),
    });
    const [publishedEvent] = await catalog.eventsAbout(id, 'catalog.event_published');
    expect(publishedEvent?.occurredAt).toBe(published.json().publishedAt);

    // A published event's capacity change and other changes: two events, one version, one time.
    catalog.clock.set(at(3));
    const patched = await patch(id, { venue: 'Red Room', totalSlots: 120 });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().updatedAt).toBe(at(3).toISOString());
    const [capacity] = await catalog.eventsAbout(id, 'catalog.event_capacity_changed');
    expect(capacity?.occurredAt).toBe(patched.json().updatedAt);
    const updated = await catalog.eventsAbout(id, 'catalog.event_updated', 2);
    expect(updated.map((e) => e.occurredAt)).toEqual([
      draftPatched.json().updatedAt,
      patched.json().updatedAt,
    ]);

    const startsAt = new Date(published.json().startsAt);
    catalog.clock.set(startsAt);
    await catalog.runtime.runLifecycle();
    const [started] = await catalog.eventsAbout(id, 'catalog.event_status_changed');
    expect(started?.occurredAt).toBe(startsAt.toISOString());
    expect((await current(id)).updatedAt).toBe(startsAt.toISOString());

    catalog.clock.set(inHours(1, startsAt));
    const cancelled = await catalog.call(organizer, 'POST', `/v1/events/${id}/cancel`, {
      reason: 'Storm',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().updatedAt).toBe(inHours(1, startsAt).toISOString());
    const [cancelledEvent] = await catalog.eventsAbout(id, 'catalog.event_cancelled');
    expect(cancelledEvent?.occurredAt).toBe(cancelled.json().updatedAt);
  });

  it('never dates a change before the last one, when a replica’s clock is behind', async () => {
    catalog.clock.set(inHours(48));
    const created = await create({ startsAt: inDays(10, now), endsAt: inDays(10.2, now) });
    expect(created.statusCode, created.body).toBe(201);
    const { id, createdAt } = created.json();

    catalog.clock.set(inHours(47));
    const patched = await patch(id, { name: 'Renamed behind' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ createdAt, updatedAt: createdAt });
  });

  it('dates the lifecycle job’s move, and its event, no earlier than the last change', async () => {
    const event = await publishedEvent({ startsAt: inDays(5, now), endsAt: inDays(5.2, now) });
    const startsAt = new Date(event.startsAt);
    // A replica whose clock is ahead renames the started event before the job of one behind it
    // moves it on.
    catalog.clock.set(inHours(0.5, startsAt));
    const renamed = await patch(event.id, { name: 'Renamed while on' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    const { version, updatedAt } = renamed.json();
    expect(updatedAt).toBe(inHours(0.5, startsAt).toISOString());

    catalog.clock.set(inHours(0.25, startsAt));
    await catalog.runtime.runLifecycle();
    expect(await current(event.id)).toMatchObject({ version: version + 1, updatedAt });
    const [started] = await catalog.eventsAbout(event.id, 'catalog.event_status_changed');
    expect(started?.aggregate.version).toBe(version + 1);
    expect(started?.occurredAt).toBe(updatedAt);
  });
});

describe('terms of a published event', () => {
  it('refuses to narrow its visibility or change its waitlist policy', async () => {
    const event = await publishedEvent();
    await expectRefusedUnchanged(event.id, [
      {
        body: { visibility: 'members' },
        status: 422,
        code: 'EVENT_VISIBILITY_NARROWED',
        path: 'body.visibility',
      },
      {
        body: { waitlistPolicy: 'first_fit' },
        status: 422,
        code: 'EVENT_WAITLIST_POLICY_LOCKED',
        path: 'body.waitlistPolicy',
      },
    ]);
    const same = await patch(event.id, { visibility: 'public', waitlistPolicy: 'fifo' });
    expect(same.statusCode, same.body).toBe(200);
    expect(same.json().version).toBe(event.version);
  });

  it('lets a published members-only event widen to public', async () => {
    const event = await publishedEvent({ visibility: 'members' });
    const widened = await patch(event.id, { visibility: 'public' });
    expect(widened.statusCode, widened.body).toBe(200);
    expect(widened.json()).toMatchObject({ visibility: 'public', version: event.version + 1 });
    const [updated] = await catalog.eventsAbout(event.id, 'catalog.event_updated');
    expect(updated?.data.changes).toEqual({ visibility: { from: 'members', to: 'public' } });
  });

  it('leaves a draft free to change both', async () => {
    catalog.clock.set(now);
    const draft = (await create()).json();
    const changed = await patch(draft.id, { visibility: 'members', waitlistPolicy: 'first_fit' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ visibility: 'members', waitlistPolicy: 'first_fit' });
  });
});
