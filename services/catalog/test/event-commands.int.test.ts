import { randomUUID } from 'node:crypto';
import { idempotencyKeyCompletionFails, withFailingWrites } from '@happening/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, eventBody, inDays, startCatalog, type TestUser } from './harness.ts';

let catalog: Catalog;
let organizer: TestUser;
const orgId = randomUUID();

beforeAll(async () => {
  catalog = await startCatalog();
  organizer = await catalog.user();
  await catalog.join(organizer, orgId, 'organizer');
});
afterAll(() => catalog?.stop());

async function createDraft(overrides: Record<string, unknown> = {}) {
  const res = await catalog.call(
    organizer,
    'POST',
    `/v1/orgs/${orgId}/events`,
    eventBody(overrides),
  );
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('create → publish → update → cancel', () => {
  it('walks the lifecycle and publishes what each step announces', async () => {
    const draft = await createDraft();
    expect(draft).toMatchObject({
      orgId,
      status: 'draft',
      version: 1,
      publishedAt: null,
      totalSlots: 100,
      availableSlots: 100,
      waitlistLength: 0,
      visibility: 'public',
      waitlistPolicy: 'fifo',
      maxSeatsPerBooking: 10,
    });
    const [created] = await catalog.eventsAbout(draft.id, 'catalog.event_created');
    expect(created).toMatchObject({
      source: 'catalog',
      orgId,
      aggregate: { type: 'event', id: draft.id, version: 1 },
      data: { eventId: draft.id, status: 'draft', totalSlots: 100, version: 1 },
    });

    const published = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/publish`);
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({ status: 'upcoming', version: 2 });
    // Its ETag is what the next PATCH's If-Match sends, without a GET first.
    expect(published.headers.etag).toBe('"2"');
    expect(published.json().publishedAt).not.toBeNull();
    const [publishedEvent] = await catalog.eventsAbout(draft.id, 'catalog.event_published');
    expect(publishedEvent?.data).toMatchObject({
      status: 'upcoming',
      version: 2,
      totalSlots: 100,
      waitlistPolicy: 'fifo',
      maxSeatsPerBooking: 10,
      visibility: 'public',
      startsAt: draft.startsAt,
      publishedAt: published.json().publishedAt,
    });

    const patched = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${draft.id}`,
      { venue: 'Red Room', totalSlots: 120, name: 'Jazz night' },
      { 'if-match': '2' },
    );
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ venue: 'Red Room', totalSlots: 120, version: 3 });
    expect(patched.headers.etag).toBe('"3"');
    const [capacity] = await catalog.eventsAbout(draft.id, 'catalog.event_capacity_changed');
    expect(capacity?.data).toEqual({
      eventId: draft.id,
      orgId,
      previousTotalSlots: 100,
      totalSlots: 120,
      changedBy: organizer.sub,
    });
    const [updated] = await catalog.eventsAbout(draft.id, 'catalog.event_updated');
    expect(updated?.data.changes).toEqual({ venue: { from: 'Blue Room', to: 'Red Room' } });
    expect(updated?.data.event).toMatchObject({ venue: 'Red Room', totalSlots: 120, version: 3 });

    const cancelled = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/cancel`, {
      reason: 'Band is ill',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', version: 4 });
    expect(cancelled.headers.etag).toBe('"4"');
    const [cancelledEvent] = await catalog.eventsAbout(draft.id, 'catalog.event_cancelled');
    expect(cancelledEvent?.data).toEqual({
      eventId: draft.id,
      orgId,
      name: 'Jazz night',
      startsAt: draft.startsAt,
      reason: 'Band is ill',
      cancelledBy: organizer.sub,
    });

    // A cancelled event is final.
    const again = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/cancel`, {
      reason: 'twice',
    });
    expect(again.statusCode).toBe(422);
    expect(again.json().code).toBe('ILLEGAL_TRANSITION');
    const edit = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${draft.id}`,
      { venue: 'x' },
      {
        'if-match': '4',
      },
    );
    expect(edit.statusCode).toBe(422);
    expect(edit.json().code).toBe('EVENT_NOT_EDITABLE');
    const republish = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/publish`);
    expect(republish.statusCode).toBe(422);
  });

  it('cancels a draft never published; it stays hidden from everyone outside the org', async () => {
    const draft = await createDraft();
    const cancelled = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/cancel`, {
      reason: 'Not happening after all',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', publishedAt: null, version: 2 });
    const [announced] = await catalog.eventsAbout(draft.id, 'catalog.event_cancelled');
    expect(announced?.data).toMatchObject({ eventId: draft.id, reason: 'Not happening after all' });
    const stranger = await catalog.user();
    expect((await catalog.call(stranger, 'GET', `/v1/events/${draft.id}`)).statusCode).toBe(404);
    expect((await catalog.call(organizer, 'GET', `/v1/events/${draft.id}`)).json().status).toBe(
      'cancelled',
    );
  });

  it('announces a draft’s capacity change as one more change in event_updated', async () => {
    const draft = await createDraft();
    const res = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${draft.id}`,
      { totalSlots: 150 },
      { 'if-match': '1' },
    );
    expect(res.statusCode, res.body).toBe(200);
    const [updated] = await catalog.eventsAbout(draft.id, 'catalog.event_updated');
    expect(updated?.data.changes).toEqual({ totalSlots: { from: draft.totalSlots, to: 150 } });
    expect(updated?.data.event).toMatchObject({ totalSlots: 150, status: 'draft' });
    // A draft holds no inventory: consumers of capacity changes hear of published events only.
    expect(
      catalog.published.filter(
        (e) => e.aggregate.id === draft.id && e.type === 'catalog.event_capacity_changed',
      ),
    ).toEqual([]);
  });

  it('publishes only event_updated when the capacity stays', async () => {
    const draft = await createDraft();
    const res = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${draft.id}`,
      { name: 'Blues' },
      {
        'if-match': '1',
      },
    );
    expect(res.statusCode).toBe(200);
    await catalog.eventsAbout(draft.id, 'catalog.event_updated');
    // The capacity event would have been enqueued in the same transaction, before event_updated.
    expect(
      catalog.published.filter(
        (e) => e.aggregate.id === draft.id && e.type === 'catalog.event_capacity_changed',
      ),
    ).toEqual([]);
  });

  it('refuses to publish an event whose start has passed', async () => {
    const draft = await createDraft({ startsAt: inDays(-1), endsAt: inDays(1) });
    const res = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/publish`);
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('EVENT_START_IN_PAST');
  });

  it('refuses a publish body with fields, and publishes with none', async () => {
    const draft = await createDraft();
    const url = `/v1/events/${draft.id}/publish`;
    const bogus = await catalog.call(organizer, 'POST', url, { bogus: true });
    expect(bogus.statusCode, bogus.body).toBe(400);
    expect(bogus.headers['content-type']).toContain('application/problem+json');
    expect(bogus.json().code).toBe('VALIDATION_FAILED');
    // As for every strict body, service-kit names an unknown key at its own path.
    expect(bogus.json().errors).toEqual([
      { path: 'body.bogus', message: expect.stringContaining('"bogus"') },
    ]);
    const unchanged = await catalog.call(organizer, 'GET', `/v1/events/${draft.id}`);
    expect(unchanged.json()).toMatchObject({ status: 'draft', version: 1 });

    const published = await catalog.call(organizer, 'POST', url);
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({ status: 'upcoming', version: 2 });
  });

  it('publishes with an empty JSON object as body', async () => {
    const draft = await createDraft();
    const res = await catalog.call(organizer, 'POST', `/v1/events/${draft.id}/publish`, {});
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('upcoming');
  });
});

describe('optimistic concurrency', () => {
  it('answers 412 to a stale If-Match and 428 without one', async () => {
    const draft = await createDraft();
    const first = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${draft.id}`,
      { venue: 'A' },
      {
        'if-match': '1',
      },
    );
    expect(first.statusCode).toBe(200);
    const stale = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${draft.id}`,
      { venue: 'B' },
      {
        'if-match': '1',
      },
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'VERSION_MISMATCH', currentVersion: 2 });
    const missing = await catalog.call(organizer, 'PATCH', `/v1/events/${draft.id}`, {
      venue: 'B',
    });
    expect(missing.statusCode).toBe(428);
    const current = await catalog.call(organizer, 'GET', `/v1/events/${draft.id}`);
    expect(current.json()).toMatchObject({ venue: 'A', version: 2 });
  });

  it('takes If-Match: * as whichever version is current', async () => {
    const draft = await createDraft();
    const path = `/v1/events/${draft.id}`;
    const first = await catalog.call(organizer, 'PATCH', path, { venue: 'A' }, { 'if-match': '*' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ venue: 'A', version: 2 });
    expect(first.headers.etag).toBe('"2"');
    const second = await catalog.call(
      organizer,
      'PATCH',
      path,
      { venue: 'B' },
      { 'if-match': '*' },
    );
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toMatchObject({ venue: 'B', version: 3 });
  });

  it('compares If-Match strongly, taking a list of tags: a weak or foreign tag matches nothing', async () => {
    const draft = await createDraft();
    const path = `/v1/events/${draft.id}`;
    const patch = (ifMatch: string, venue: string) =>
      catalog.call(organizer, 'PATCH', path, { venue }, { 'if-match': ifMatch });
    for (const stale of ['W/"1"', '"v1"', '"2", "3"']) {
      const res = await patch(stale, 'Never');
      expect(res.statusCode, `${stale}: ${res.body}`).toBe(412);
      expect(res.json()).toMatchObject({ code: 'VERSION_MISMATCH', currentVersion: 1 });
    }
    const listed = await patch('"7", W/"1", "1"', 'Listed');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json()).toMatchObject({ venue: 'Listed', version: 2 });
    expect((await patch('"2', 'Broken')).statusCode).toBe(400);
  });

  it('answers 404 to If-Match: * for an event that does not exist', async () => {
    const res = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${randomUUID()}`,
      { venue: 'A' },
      { 'if-match': '*' },
    );
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json().code).toBe('EVENT_NOT_FOUND');
  });

  it('lets exactly one of two concurrent PATCHes at the same version through', async () => {
    const draft = await createDraft();
    const results = await Promise.all(
      ['A', 'B'].map((venue) =>
        catalog.call(organizer, 'PATCH', `/v1/events/${draft.id}`, { venue }, { 'if-match': '1' }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 412]);
  });
});

describe('validation', () => {
  const create = (overrides: Record<string, unknown>) =>
    catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, eventBody(overrides));

  it.each([
    [{ startsAt: inDays(5), endsAt: inDays(4) }, 'body.endsAt'],
    [{ timezone: 'Mars/Olympus' }, 'body.timezone'],
    [{ totalSlots: 0 }, 'body.totalSlots'],
    [{ totalSlots: 100_001 }, 'body.totalSlots'],
    [{ category: 'rave' }, 'body.category'],
    [{ startsAt: 'tomorrow' }, 'body.startsAt'],
  ])('answers 400 naming the field for %j', async (overrides, path) => {
    const res = await create(overrides);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('stores and announces a time zone as named, its case put right', async () => {
    const res = await create({ timezone: 'Europe/PARIS' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().timezone).toBe('Europe/Paris');
    const [created] = await catalog.eventsAbout(res.json().id, 'catalog.event_created');
    expect(created?.data.timezone).toBe('Europe/Paris');

    const path = `/v1/events/${res.json().id}`;
    const patch = (timezone: string) =>
      catalog.call(organizer, 'PATCH', path, { timezone }, { 'if-match': '*' });
    const same = await patch('europe/paris');
    expect(same.statusCode, same.body).toBe(200);
    expect(same.json()).toMatchObject({ timezone: 'Europe/Paris', version: 1 });

    // Kept as sent, not as the runtime's older canonical name (Node 20 says Europe/Kiev).
    const moved = await patch('Europe/Kyiv');
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ timezone: 'Europe/Kyiv', version: 2 });
    // Another name of the same zone changes nothing.
    const alias = await patch('Europe/Kiev');
    expect(alias.json()).toMatchObject({ timezone: 'Europe/Kyiv', version: 2 });

    const utc = await create({ timezone: 'GMT+0' });
    expect(utc.statusCode, utc.body).toBe(201);
    expect(utc.json().timezone).toBe('GMT+0');
  });

  // In UTC these fall in the year 10000, which no ISO-8601 snapshot of the event can carry.
  const pastYear9999 = {
    startsAt: '9999-12-31T20:00:00-05:00',
    endsAt: '9999-12-31T23:00:00-05:00',
  };

  it('refuses times whose UTC instant falls outside the years 0001–9999', async () => {
    const res = await create(pastYear9999);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['body.startsAt', 'body.endsAt']),
    );
    const early = await create({ startsAt: '0001-01-01T02:00:00+05:00', endsAt: inDays(1) });
    expect(early.statusCode, early.body).toBe(400);
    expect(early.json().errors.map((e: { path: string }) => e.path)).toEqual(['body.startsAt']);
  });

  it('refuses a PATCH to times outside the years 0001–9999', async () => {
    const draft = await createDraft();
    for (const [field, body] of [
      ['body.endsAt', { endsAt: pastYear9999.endsAt }],
      ['body.startsAt', pastYear9999],
    ] as const) {
      const res = await catalog.call(organizer, 'PATCH', `/v1/events/${draft.id}`, body, {
        'if-match': '1',
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    const current = await catalog.call(organizer, 'GET', `/v1/events/${draft.id}`);
    expect(current.json()).toMatchObject({ endsAt: draft.endsAt, version: 1 });
  });

  it('checks the time order of a PATCH against the stored event', async () => {
    const draft = await createDraft();
    const res = await catalog.call(
      organizer,
      'PATCH',
      `/v1/events/${draft.id}`,
      { endsAt: inDays(1) },
      { 'if-match': '1' },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ path: 'body.endsAt', message: 'must be after startsAt' }]);
  });

  it('replays a create retried with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': randomUUID() };
    const body = eventBody({ name: 'Once' });
    const first = await catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, body, headers);
    const second = await catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, body, headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json().id).toBe(first.json().id);
  });

  it("answers a create and its replay with the event's Location", async () => {
    const headers = { 'idempotency-key': randomUUID() };
    const body = eventBody({ name: 'Located' });
    const first = await catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, body, headers);
    const replay = await catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, body, headers);
    expect(first.statusCode).toBe(201);
    expect(first.headers.location).toBe(`/v1/events/${first.json().id}`);
    expect(replay.headers.location).toBe(first.headers.location);
    const located = await catalog.call(organizer, 'GET', first.headers.location as string);
    expect(located.statusCode).toBe(200);
    expect(located.json().id).toBe(first.json().id);
  });

  it('creates nothing when the Idempotency-Key cannot be completed with the create', async () => {
    const key = randomUUID();
    const name = `Atomic ${key.slice(0, 6)}`;
    const body = eventBody({ name });
    const post = () =>
      catalog.call(organizer, 'POST', `/v1/orgs/${orgId}/events`, body, { 'idempotency-key': key });
    // Completing this key fails inside Postgres (a crash between the two would do the same).
    const failed = await withFailingWrites(catalog.db, idempotencyKeyCompletionFails(key), post);
    expect(failed.statusCode).toBe(500);
    const named = () =>
      catalog.db.selectFrom('events').select('id').where('name', '=', name).execute();
    expect(await named()).toEqual([]);
    // The retry runs once, and its answer is the key's.
    const retried = await post();
    expect(retried.statusCode).toBe(201);
    const replayed = await post();
    expect(replayed.json().id, replayed.body).toBe(retried.json().id);
    expect(await named()).toHaveLength(1);
  });

  it('answers 401 without a token', async () => {
    const res = await catalog.call(undefined, 'GET', '/v1/events');
    expect(res.statusCode).toBe(401);
  });
});
