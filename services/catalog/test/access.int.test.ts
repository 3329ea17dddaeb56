import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleOf } from '../src/modules/memberships/membership.repository.ts';
import { type Catalog, eventBody, startCatalog, type TestUser } from './harness.ts';

let catalog: Catalog;
const orgA = randomUUID();
const orgB = randomUUID();
let adminA: TestUser;
let organizerA: TestUser;
let userA: TestUser;
let organizerB: TestUser;
let outsider: TestUser;

async function createIn(who: TestUser, orgId: string, overrides: Record<string, unknown> = {}) {
  const res = await catalog.call(who, 'POST', `/v1/orgs/${orgId}/events`, eventBody(overrides));
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; version: number };
}

// A caller who may not change the event learns nothing from its If-Match: missing, malformed or *.
const whateverIfMatch: Record<string, string>[] = [
  {},
  { 'if-match': 'nonsense' },
  { 'if-match': '*' },
];

/** Every way to touch one event, with the status each should answer. */
function attempts(who: TestUser, id: string, version: number) {
  return {
    get: () => catalog.call(who, 'GET', `/v1/events/${id}`),
    patch: (headers: Record<string, string> = { 'if-match': String(version) }) =>
      catalog.call(who, 'PATCH', `/v1/events/${id}`, { name: 'Taken over' }, headers),
    publish: () => catalog.call(who, 'POST', `/v1/events/${id}/publish`),
    cancel: () => catalog.call(who, 'POST', `/v1/events/${id}/cancel`, { reason: 'x' }),
  };
}

beforeAll(async () => {
  catalog = await startCatalog();
  adminA = await catalog.user();
  organizerA = await catalog.user();
  userA = await catalog.user();
  organizerB = await catalog.user();
  outsider = await catalog.user();
  await Promise.all([
    catalog.join(adminA, orgA, 'orgAdmin'),
    catalog.join(organizerA, orgA, 'organizer'),
    catalog.join(userA, orgA, 'user'),
    catalog.join(organizerB, orgB, 'organizer'),
  ]);
});
afterAll(() => catalog?.stop());

describe('cross-tenant matrix', () => {
  it("gives members of A a 404 for everything about B's drafts", async () => {
    const draft = await createIn(organizerB, orgB, { name: 'Secret B plan' });
    for (const who of [adminA, organizerA, userA, outsider]) {
      for (const [action, attempt] of Object.entries(attempts(who, draft.id, draft.version))) {
        const res = await attempt();
        expect(res.statusCode, `${action}`).toBe(404);
        expect(res.body).not.toContain('Secret B plan');
      }
    }
    const list = await catalog.call(adminA, 'GET', `/v1/orgs/${orgB}/events`);
    expect(list.statusCode).toBe(404);
    const create = await catalog.call(adminA, 'POST', `/v1/orgs/${orgB}/events`, eventBody());
    expect(create.statusCode).toBe(404);
  });

  it("shows B's public events to members of A but answers 403 to every change", async () => {
    const event = await catalog.publishedEvent(organizerB, orgB, { name: 'Open B concert' });
    for (const who of [adminA, organizerA, userA, outsider]) {
      const { get, ...changes } = attempts(who, event.id, event.version);
      expect((await get()).statusCode).toBe(200);
      for (const [action, attempt] of Object.entries(changes)) {
        const res = await attempt();
        expect(res.statusCode, action).toBe(403);
        expect(res.body).not.toContain('Open B concert');
      }
    }
    const after = await catalog.call(organizerB, 'GET', `/v1/events/${event.id}`);
    expect(after.json()).toMatchObject({ name: 'Open B concert', status: 'upcoming', version: 2 });
  });

  it("hides B's members-only events from members of A", async () => {
    const event = await catalog.publishedEvent(organizerB, orgB, { visibility: 'members' });
    for (const who of [adminA, userA, outsider]) {
      expect((await attempts(who, event.id, event.version).get()).statusCode).toBe(404);
      expect((await attempts(who, event.id, event.version).patch()).statusCode).toBe(404);
    }
    expect((await catalog.call(organizerB, 'GET', `/v1/events/${event.id}`)).statusCode).toBe(200);
  });

  it('answers 404 to a PATCH of B’s draft before asking for If-Match', async () => {
    const draft = await createIn(organizerB, orgB);
    for (const who of [adminA, userA, outsider]) {
      for (const ifMatch of whateverIfMatch) {
        const res = await attempts(who, draft.id, 1).patch(ifMatch);
        expect(res.statusCode, res.body).toBe(404);
        expect(res.json().code).toBe('EVENT_NOT_FOUND');
      }
    }
  });

  it('answers 404 for an event that does not exist', async () => {
    expect((await catalog.call(adminA, 'GET', `/v1/events/${randomUUID()}`)).statusCode).toBe(404);
  });
});

describe('role matrix', () => {
  it('lets organizers and admins create, publish, edit and cancel', async () => {
    for (const who of [adminA, organizerA]) {
      const event = await catalog.publishedEvent(who, orgA);
      const { patch, cancel } = attempts(who, event.id, event.version);
      expect((await patch()).statusCode).toBe(200);
      expect((await cancel()).statusCode).toBe(200);
    }
  });

  it('lets a user see drafts of its org but not create, publish, edit or cancel', async () => {
    const create = await catalog.call(userA, 'POST', `/v1/orgs/${orgA}/events`, eventBody());
    expect(create.statusCode).toBe(403);
    const draft = await createIn(organizerA, orgA);
    const { get, ...changes } = attempts(userA, draft.id, draft.version);
    expect((await get()).statusCode).toBe(200);
    for (const [action, attempt] of Object.entries(changes)) {
      expect((await attempt()).statusCode, action).toBe(403);
    }
    expect((await catalog.call(userA, 'GET', `/v1/orgs/${orgA}/events`)).statusCode).toBe(200);
  });

  it('answers 403 to a user’s PATCH before asking for If-Match', async () => {
    const draft = await createIn(organizerA, orgA);
    for (const ifMatch of whateverIfMatch) {
      const res = await attempts(userA, draft.id, 1).patch(ifMatch);
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().code).toBe('FORBIDDEN');
    }
    expect((await attempts(organizerA, draft.id, 1).get()).json()).toMatchObject({ version: 1 });
    const missing = await attempts(organizerA, draft.id, 1).patch({});
    expect(missing.statusCode).toBe(428);
  });

  it('follows role changes and removals from identity events', async () => {
    const member = await catalog.user();
    await catalog.join(member, orgA, 'user');
    await catalog.publish(
      'identity.member_role_changed',
      {
        organizationId: orgA,
        userId: member.sub,
        previousRole: 'user',
        role: 'organizer',
        changedBy: adminA.sub,
      },
      'identity-org',
      { type: 'organization', id: orgA },
    );
    await eventually(async () => (await roleOf(catalog.db, orgA, member.sub)) === 'organizer');
    const draft = await createIn(member, orgA);

    await catalog.publish(
      'identity.member_removed',
      { organizationId: orgA, userId: member.sub, role: 'organizer', removedBy: adminA.sub },
      'identity-org',
      { type: 'organization', id: orgA },
    );
    await eventually(async () => (await roleOf(catalog.db, orgA, member.sub)) === undefined);
    expect((await catalog.call(member, 'GET', `/v1/events/${draft.id}`)).statusCode).toBe(404);
    expect((await catalog.call(member, 'GET', `/v1/orgs/${orgA}/events`)).statusCode).toBe(404);
  });

  it('replays no create to someone removed since, whatever Idempotency-Key they send', async () => {
    const member = await catalog.user();
    await catalog.join(member, orgA, 'organizer');
    const headers = { 'idempotency-key': randomUUID() };
    const body = eventBody({ name: 'Before leaving' });
    const created = await catalog.call(member, 'POST', `/v1/orgs/${orgA}/events`, body, headers);
    expect(created.statusCode, created.body).toBe(201);
    await catalog.publish(
      'identity.member_removed',
      { organizationId: orgA, userId: member.sub, role: 'organizer', removedBy: adminA.sub },
      'identity-org',
      { type: 'organization', id: orgA },
    );
    await eventually(async () => (await roleOf(catalog.db, orgA, member.sub)) === undefined);
    const replayed = await catalog.call(member, 'POST', `/v1/orgs/${orgA}/events`, body, headers);
    expect(replayed.statusCode).toBe(404);
    expect(replayed.body).not.toContain(created.json().id);
  });

  it('orders membership events by the organization’s version, not their clocks', async () => {
    const member = await catalog.user();
    await catalog.join(member, orgA, 'organizer');
    const draft = await createIn(member, orgA);
    // The removal (version 1001) arrives first; the role change before it (1000), stamped later by
    // a replica with a faster clock, arrives after and changes nothing.
    await catalog.publish(
      'identity.member_removed',
      { organizationId: orgA, userId: member.sub, role: 'organizer', removedBy: adminA.sub },
      'identity-org',
      { type: 'organization', id: orgA, version: 1_001 },
    );
    await eventually(async () => (await roleOf(catalog.db, orgA, member.sub)) === undefined);
    const late = await catalog.publish(
      'identity.member_role_changed',
      {
        organizationId: orgA,
        userId: member.sub,
        previousRole: 'organizer',
        role: 'orgAdmin',
        changedBy: adminA.sub,
      },
      'identity-org',
      { type: 'organization', id: orgA, version: 1_000 },
    );
    await eventually(async () => {
      const { rows } = await sql`SELECT 1 FROM inbox WHERE message_id = ${late.id}`.execute(
        catalog.db,
      );
      return rows.length > 0;
    });
    expect((await catalog.call(member, 'GET', `/v1/events/${draft.id}`)).statusCode).toBe(404);
    expect(
      (
        await catalog.call(
          member,
          'PATCH',
          `/v1/events/${draft.id}`,
          { name: 'Mine again' },
          {
            'if-match': '1',
          },
        )
      ).statusCode,
    ).toBe(404);
  });
});

describe('availability projection', () => {
  const figures = (eventId: string, sequence: number, confirmedSeats: number) => ({
    eventId,
    orgId: orgA,
    totalSlots: 100,
    availableSlots: 100 - confirmedSeats,
    confirmedSeats,
    waitlistLength: sequence,
    sequence,
  });
  const announce = (eventId: string, sequence: number, confirmedSeats: number) =>
    catalog.publish(
      'booking.availability_changed',
      figures(eventId, sequence, confirmedSeats),
      'booking',
      {
        type: 'event',
        id: eventId,
      },
    );
  const handled = async (messageId: string) => {
    const { rows } = await sql`SELECT 1 FROM inbox WHERE message_id = ${messageId}`.execute(
      catalog.db,
    );
    return rows.length > 0;
  };

  it('shows the waitlist of a finished event closed, whatever booking reported last', async () => {
    const event = await catalog.publishedEvent(organizerA, orgA, { name: 'Closing waitlist' });
    const sent = await announce(event.id, 4, 100);
    await eventually(() => handled(sent.id), { what: 'the figures handled' });
    const shown = async () =>
      (await catalog.call(organizerA, 'GET', `/v1/events/${event.id}`)).json();
    expect(await shown()).toMatchObject({ waitlistLength: 4 });
    const cancelled = await catalog.call(organizerA, 'POST', `/v1/events/${event.id}/cancel`, {
      reason: 'Venue lost',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(await shown()).toMatchObject({ status: 'cancelled', waitlistLength: 0 });
  });

  it('shows no seat free at a cancelled event booking never reported on', async () => {
    const created = await catalog.call(
      organizerA,
      'POST',
      `/v1/orgs/${orgA}/events`,
      eventBody({ name: 'Cancelled draft', totalSlots: 100 }),
    );
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ availableSlots: 100 });
    const cancelled = await catalog.call(
      organizerA,
      'POST',
      `/v1/events/${created.json().id}/cancel`,
      { reason: 'Not happening' },
    );
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', availableSlots: 0 });
  });

  it('shows the newest figures in GET and the listing, and guards capacity with them', async () => {
    const event = await catalog.publishedEvent(organizerA, orgA, { name: 'Availability check' });
    await announce(event.id, 5, 70);
    const shown = await eventually(async () => {
      const res = await catalog.call(outsider, 'GET', `/v1/events/${event.id}`);
      return res.json().availableSlots === 30 ? res.json() : undefined;
    });
    expect(shown).toMatchObject({ totalSlots: 100, availableSlots: 30, waitlistLength: 5 });
    const listed = await catalog.call(outsider, 'GET', `/v1/events?orgId=${orgA}&q=availability`);
    expect(listed.json().items).toMatchObject([
      { id: event.id, availableSlots: 30, waitlistLength: 5 },
    ]);

    // An older report arriving late changes nothing.
    const stale = await announce(event.id, 3, 10);
    await eventually(() => handled(stale.id), { what: 'the stale report to be handled' });
    const still = await catalog.call(outsider, 'GET', `/v1/events/${event.id}`);
    expect(still.json()).toMatchObject({ availableSlots: 30, waitlistLength: 5 });

    const below = await catalog.call(
      organizerA,
      'PATCH',
      `/v1/events/${event.id}`,
      { totalSlots: 69 },
      { 'if-match': String(event.version) },
    );
    expect(below.statusCode).toBe(409);
    expect(below.json().code).toBe('CAPACITY_BELOW_CONFIRMED');
    const exact = await catalog.call(
      organizerA,
      'PATCH',
      `/v1/events/${event.id}`,
      { totalSlots: 70 },
      { 'if-match': String(event.version) },
    );
    expect(exact.statusCode, exact.body).toBe(200);
    expect(exact.json()).toMatchObject({ totalSlots: 70, availableSlots: 0 });
    await catalog.eventsAbout(event.id, 'catalog.event_capacity_changed');
  });

  it('lets an oversubscribed event raise its capacity, still below the confirmed seats', async () => {
    const event = await catalog.publishedEvent(organizerA, orgA, {
      name: 'Oversubscribed',
      totalSlots: 50,
    });
    // Bookings raced a cut: booking reports more confirmed seats than the event has.
    const sent = await catalog.publish(
      'booking.availability_changed',
      {
        eventId: event.id,
        orgId: orgA,
        totalSlots: 50,
        availableSlots: 0,
        confirmedSeats: 60,
        waitlistLength: 0,
        sequence: 1,
      },
      'booking',
      { type: 'event', id: event.id },
    );
    await eventually(() => handled(sent.id), { what: 'the figures handled' });
    const patch = (totalSlots: number, version: number) =>
      catalog.call(
        organizerA,
        'PATCH',
        `/v1/events/${event.id}`,
        { totalSlots },
        { 'if-match': String(version) },
      );

    const raised = await patch(55, event.version);
    expect(raised.statusCode, raised.body).toBe(200);
    expect(raised.json()).toMatchObject({ totalSlots: 55, availableSlots: 0 });
    const [changed] = await catalog.eventsAbout(event.id, 'catalog.event_capacity_changed');
    expect(changed?.data).toMatchObject({ previousTotalSlots: 50, totalSlots: 55 });

    const cut = await patch(54, raised.json().version);
    expect(cut.statusCode, cut.body).toBe(409);
    expect(cut.json().code).toBe('CAPACITY_BELOW_CONFIRMED');
  });
});
