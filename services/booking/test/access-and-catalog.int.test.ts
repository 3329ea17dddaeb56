import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEvent } from '../src/modules/inventory/event-inventory.repository.ts';
import { withFailingInserts, withGate } from './failing-inserts.ts';
import { type Booking, eventSnapshot, publishedEvent, startBooking } from './harness.ts';
import { expectConsistent } from './invariants.ts';

let svc: Booking;

/** Delivers catalog.event_cancelled (at catalog version `version`) of the event `snapshot` describes. */
const cancelEvent = (
  snapshot: Pick<ReturnType<typeof eventSnapshot>, 'eventId' | 'orgId' | 'name' | 'startsAt'>,
  version: number,
) =>
  svc.deliver(
    'catalog.event_cancelled',
    {
      eventId: snapshot.eventId,
      orgId: snapshot.orgId,
      name: snapshot.name,
      startsAt: snapshot.startsAt,
      reason: 'called off',
      cancelledBy: 'org-admin',
    },
    { type: 'event', id: snapshot.eventId, version },
  );

/** catalog.event_updated at catalog version 3, renaming the event to "Renamed". */
const renamed = (
  snapshot: Omit<ReturnType<typeof eventSnapshot>, 'status'> & { status: 'upcoming' | 'draft' },
) =>
  [
    'catalog.event_updated',
    {
      eventId: snapshot.eventId,
      orgId: snapshot.orgId,
      changes: { name: { from: snapshot.name, to: 'Renamed' } },
      event: { ...snapshot, name: 'Renamed', version: 3 },
    },
    { type: 'event', id: snapshot.eventId, version: 3 },
  ] as const;

/** The event's row reads `expected` and it holds no inventory in Redis. */
async function expectClosed(eventId: string, expected: Record<string, unknown>) {
  expect(await findEvent(svc.db, eventId)).toMatchObject(expected);
  expect(await svc.ctx.inventory.exists(eventId)).toBe(false);
}

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

/**
 * A 4-seat event whose capacity is lowered to 2 while b's booking holds seats 3 and 4 (a's, on
 * seats 1 and 2, cancelled first): seats 1 and 2 are free but not for sale.
 */
async function capacityLoweredBelowBooked() {
  const { eventId, orgId } = await svc.openEvent({ totalSlots: 4 });
  const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
  const first = (await svc.book(a, eventId, 2)).json();
  const beyond = (await svc.book(b, eventId, 2)).json();
  expect([first.seatNumbers, beyond.seatNumbers]).toEqual([
    [1, 2],
    [3, 4],
  ]);
  expect((await svc.call(a, 'POST', `/v1/bookings/${first.id}/cancel`, {})).statusCode).toBe(200);
  await svc.publish(
    'catalog.event_capacity_changed',
    { eventId, orgId, previousTotalSlots: 4, totalSlots: 2 },
    { type: 'event', id: eventId, version: 3 },
  );
  await eventually(
    async () =>
      (await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json().totalSlots === 2,
  );
  return { eventId, a, b, c, beyond };
}

describe('ownership and tenant boundaries', () => {
  it('owner and own-org staff see a booking; everyone else gets 404; lists and reconcile are role-guarded', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 10 });
    const [owner, stranger, member, organizer, admin, otherAdmin] = await Promise.all([
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
      svc.user(),
    ]);
    const otherOrg = randomUUID();
    await Promise.all([
      svc.join(member, orgId, 'user'),
      svc.join(organizer, orgId, 'organizer'),
      svc.join(admin, orgId, 'orgAdmin'),
      svc.join(otherAdmin, otherOrg, 'orgAdmin'),
    ]);
    const booking = (
      await svc.call(owner, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })
    ).json();
    const url = `/v1/bookings/${booking.id}`;

    for (const who of [owner, organizer, admin]) {
      expect((await svc.call(who, 'GET', url)).statusCode).toBe(200);
      expect((await svc.call(who, 'GET', `${url}/history`)).statusCode).toBe(200);
    }
    for (const who of [stranger, member, otherAdmin]) {
      expect((await svc.call(who, 'GET', url)).statusCode).toBe(404);
      expect((await svc.call(who, 'GET', `${url}/history`)).statusCode).toBe(404);
      expect((await svc.call(who, 'POST', `${url}/cancel`, {})).statusCode).toBe(404);
    }
    expect((await svc.call(undefined, 'GET', url)).statusCode).toBe(401);
    expect((await svc.call(stranger, 'GET', `/v1/bookings/${randomUUID()}`)).statusCode).toBe(404);

    const list = `/v1/events/${eventId}/bookings`;
    expect((await svc.call(organizer, 'GET', list)).statusCode).toBe(200);
    expect((await svc.call(admin, 'GET', list)).statusCode).toBe(200);
    expect((await svc.call(member, 'GET', list)).statusCode).toBe(403);
    expect((await svc.call(owner, 'GET', list)).statusCode).toBe(404);
    expect((await svc.call(otherAdmin, 'GET', list)).statusCode).toBe(404);

    const reconcile = `/v1/events/${eventId}/reconcile`;
    expect((await svc.call(admin, 'POST', reconcile)).json()).toEqual({ eventId, promoted: 0 });
    // It takes no body: a field sent to it is refused, as any unknown field is.
    const withField = await svc.call(admin, 'POST', reconcile, { force: true });
    expect(withField.statusCode).toBe(400);
    expect(withField.json().errors).toEqual([expect.objectContaining({ path: 'body.force' })]);
    expect((await svc.call(admin, 'POST', reconcile, {})).statusCode).toBe(200);
    expect((await svc.call(organizer, 'POST', reconcile)).statusCode).toBe(403);
    expect((await svc.call(member, 'POST', reconcile)).statusCode).toBe(403);
    expect((await svc.call(otherAdmin, 'POST', reconcile)).statusCode).toBe(404);

    // another person's bookings never show in my list
    expect((await svc.call(stranger, 'GET', '/v1/me/bookings')).json().items).toEqual([]);

    // an organizer of the event's org may cancel someone's booking
    const cancelled = await svc.call(organizer, 'POST', `${url}/cancel`, {});
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      cancelledReason: 'by_organizer',
    });
  });

  it('members-only events are invisible to non-members', async () => {
    const { eventId, orgId } = await svc.openEvent({ visibility: 'members' });
    const [outsider, insider] = await Promise.all([svc.user(), svc.user()]);
    await svc.join(insider, orgId, 'user');
    expect(
      (await svc.call(outsider, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })).statusCode,
    ).toBe(404);
    expect((await svc.call(outsider, 'GET', `/v1/events/${eventId}/availability`)).statusCode).toBe(
      404,
    );
    expect(
      (await svc.call(insider, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })).statusCode,
    ).toBe(201);
  });

  it('unknown events are 404', async () => {
    const who = await svc.user();
    const response = await svc.call(who, 'POST', `/v1/events/${randomUUID()}/bookings`, {
      seats: 1,
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('EVENT_NOT_FOUND');
  });
});

describe('membership events', () => {
  it('are ordered by the organization’s version: a late role change does not bring a removed admin back', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 2 });
    const admin = await svc.user();
    await svc.join(admin, orgId, 'orgAdmin');
    const reconcile = () => svc.call(admin, 'POST', `/v1/events/${eventId}/reconcile`);
    expect((await reconcile()).statusCode).toBe(200);
    await svc.deliver(
      'identity.member_removed',
      { organizationId: orgId, userId: admin.sub, role: 'orgAdmin', removedBy: randomUUID() },
      { type: 'organization', id: orgId, version: 1_001 },
    );
    await svc.deliver(
      'identity.member_role_changed',
      {
        organizationId: orgId,
        userId: admin.sub,
        previousRole: 'organizer',
        role: 'orgAdmin',
        changedBy: randomUUID(),
      },
      { type: 'organization', id: orgId, version: 1_000 },
    );
    expect((await reconcile()).statusCode).toBe(404);
  });
});

describe('catalog events', () => {
  it('raising capacity promotes at once; lowering never cancels a confirmed booking', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 2 });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 2 });
    const waiting = (
      await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 2 })
    ).json();
    await svc.publish(
      'catalog.event_capacity_changed',
      { eventId, orgId, previousTotalSlots: 2, totalSlots: 4 },
      { type: 'event', id: eventId, version: 3 },
    );
    await eventually(
      async () =>
        (await svc.call(b, 'GET', `/v1/bookings/${waiting.id}`)).json().status === 'confirmed',
    );
    expect((await svc.call(b, 'GET', `/v1/bookings/${waiting.id}`)).json().seatNumbers).toEqual([
      3, 4,
    ]);
    await eventually(
      () =>
        svc.eventsOf('booking.waitlist_promoted', (e) => e.data.bookingId === waiting.id).length ===
        1,
    );

    await svc.publish(
      'catalog.event_capacity_changed',
      { eventId, orgId, previousTotalSlots: 4, totalSlots: 1 },
      { type: 'event', id: eventId, version: 4 },
    );
    await eventually(async () => (await findEvent(svc.db, eventId))?.totalSlots === 1);
    await eventually(
      async () =>
        (await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json().totalSlots === 1,
    );
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 1,
      availableSlots: 0,
      waitlistLength: 0,
    });
    const confirmed = await svc.db
      .selectFrom('bookings')
      .select('status')
      .where('event_id', '=', eventId)
      .where('status', '=', 'confirmed')
      .execute();
    expect(confirmed).toHaveLength(2);
    expect(
      (await svc.call(c, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })).json().status,
    ).toBe('waiting');
  });

  it('a cancelled event cancels every booking, each with its own history entry and event', async () => {
    const { eventId, orgId, snapshot } = await svc.openEvent({ totalSlots: 2 });
    const users = await Promise.all([svc.user(), svc.user(), svc.user()]);
    const ids = [];
    for (const u of users)
      ids.push(
        (await svc.call(u, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })).json().id,
      );
    await svc.publish(
      'catalog.event_cancelled',
      {
        eventId,
        orgId,
        name: snapshot.name,
        startsAt: snapshot.startsAt,
        reason: 'venue flooded',
        cancelledBy: 'org-admin',
      },
      { type: 'event', id: eventId, version: 3 },
    );
    const cancelled = await eventually(() => {
      const found = svc.eventsOf('booking.booking_cancelled', (e) => e.data.eventId === eventId);
      return found.length === 3 ? found : undefined;
    });
    expect(cancelled.every((e) => e.data.reason === 'event_cancelled')).toBe(true);
    const history = (await svc.call(users[0], 'GET', `/v1/bookings/${ids[0]}/history`)).json()
      .items;
    expect(history[1]).toMatchObject({
      action: 'cancelled',
      details: { reason: 'event_cancelled' },
    });
    expect(await svc.ctx.inventory.exists(eventId)).toBe(false);
    const late = await svc.call(users[0], 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    expect(late.json().code).toBe('EVENT_NOT_OPEN');
  });

  it('a cancelled event with more bookings than one chunk cancels each once, in booking order', async () => {
    const { eventId, snapshot } = await svc.openEvent({ totalSlots: 600 });
    const users = await Promise.all(Array.from({ length: 1_100 }, () => svc.user()));
    const booked = await Promise.all(
      users.map((u) => svc.call(u, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })),
    );
    expect(booked.map((r) => r.statusCode)).toEqual(users.map(() => 201));
    await cancelEvent(snapshot, 3);
    const cancelled = await eventually(
      () => {
        const found = svc.eventsOf('booking.booking_cancelled', (e) => e.data.eventId === eventId);
        return found.length >= 1_100 ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(new Set(cancelled.map((e) => e.data.bookingId)).size).toBe(1_100);
    const active = await svc.db
      .selectFrom('bookings')
      .select('id')
      .where('event_id', '=', eventId)
      .where('status', 'in', ['confirmed', 'waiting'])
      .execute();
    expect(active).toEqual([]);
    // Recorded in the order the bookings were made, as one at a time recorded them.
    const order = await svc.db
      .selectFrom('booking_history as h')
      .innerJoin('bookings as b', 'b.id', 'h.booking_id')
      .select(['b.created_at', 'h.position'])
      .where('b.event_id', '=', eventId)
      .where('h.action', '=', 'cancelled')
      .orderBy('h.position')
      .execute();
    const made = order.map((row) => row.created_at.getTime());
    expect(made).toEqual([...made].sort((x, y) => x - y));
  }, 120_000);

  it('a change announced as a capacity change and an update of one version applies both', async () => {
    const { eventId, orgId, snapshot } = await svc.openEvent({ totalSlots: 5 });
    const who = await svc.user();
    // One PATCH of capacity and seats per booking: catalog announces both with version 3.
    await svc.deliver(
      'catalog.event_capacity_changed',
      { eventId, orgId, previousTotalSlots: 5, totalSlots: 8 },
      { type: 'event', id: eventId, version: 3 },
    );
    await svc.deliver(
      'catalog.event_updated',
      {
        eventId,
        orgId,
        changes: { maxSeatsPerBooking: { from: 4, to: 2 } },
        event: { ...snapshot, totalSlots: 8, maxSeatsPerBooking: 2, version: 3 },
      },
      { type: 'event', id: eventId, version: 3 },
    );
    expect(await findEvent(svc.db, eventId)).toMatchObject({
      totalSlots: 8,
      maxSeatsPerBooking: 2,
    });
    const tooMany = await svc.call(who, 'POST', `/v1/events/${eventId}/bookings`, { seats: 3 });
    expect(tooMany.json().code).toBe('BOOKING_TOO_MANY_SEATS');
    // Redis is rebuilt once the message's transaction committed.
    await eventually(
      async () =>
        (await svc.call(who, 'GET', `/v1/events/${eventId}/availability`)).json().totalSlots === 8,
    );
  });

  it('a late update of a cancelled event does not reopen it', async () => {
    const { eventId, snapshot } = await svc.openEvent({ totalSlots: 5 });
    const who = await svc.user();
    await cancelEvent(snapshot, 4);
    // The update catalog made before cancelling, delivered after it (a retry, say): its rename
    // happened, its status is old news.
    await svc.deliver(...renamed(snapshot));
    await expectClosed(eventId, { status: 'cancelled', name: 'Renamed' });
    const late = await svc.call(who, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    expect(late.json().code).toBe('EVENT_NOT_OPEN');
  });

  it('an update handled after a newer capacity change still applies its details, not its capacity', async () => {
    const { eventId, orgId, snapshot } = await svc.openEvent({ totalSlots: 5 });
    const [member, stranger] = await Promise.all([svc.user(), svc.user()]);
    await svc.join(member, orgId, 'user');
    // Catalog made the event members-only with two seats per booking (version 3), then raised
    // its capacity (version 4); booking handled them the other way round.
    await svc.deliver(
      'catalog.event_capacity_changed',
      { eventId, orgId, previousTotalSlots: 5, totalSlots: 9 },
      { type: 'event', id: eventId, version: 4 },
    );
    await svc.deliver(
      'catalog.event_updated',
      {
        eventId,
        orgId,
        changes: { visibility: { from: 'public', to: 'members' } },
        event: { ...snapshot, visibility: 'members', maxSeatsPerBooking: 2, version: 3 },
      },
      { type: 'event', id: eventId, version: 3 },
    );
    expect(await findEvent(svc.db, eventId)).toMatchObject({
      totalSlots: 9,
      visibility: 'members',
      maxSeatsPerBooking: 2,
    });
    const outsider = await svc.call(stranger, 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 1,
    });
    expect(outsider.statusCode).toBe(404);
    const tooMany = await svc.call(member, 'POST', `/v1/events/${eventId}/bookings`, { seats: 3 });
    expect(tooMany.json().code).toBe('BOOKING_TOO_MANY_SEATS');
    await eventually(
      async () =>
        (await svc.call(member, 'GET', `/v1/events/${eventId}/availability`)).json().totalSlots ===
        9,
    );
  });

  it('an update handled after a newer status change applies its details and keeps the status', async () => {
    const { eventId, orgId, snapshot } = await svc.openEvent({ totalSlots: 5 });
    await svc.deliver(
      'catalog.event_status_changed',
      { eventId, orgId, from: 'upcoming', to: 'ongoing' },
      { type: 'event', id: eventId, version: 4 },
    );
    await svc.deliver(...renamed(snapshot));
    expect(await findEvent(svc.db, eventId)).toMatchObject({
      name: 'Renamed',
      status: 'ongoing',
    });
  });

  it('a draft known from its update and cancelled unpublished stays unknown to outsiders', async () => {
    const snapshot = { ...eventSnapshot(), status: 'draft' as const };
    const stranger = await svc.user();
    await svc.deliver(...renamed(snapshot));
    await cancelEvent(snapshot, 4);
    await expectClosed(snapshot.eventId, { status: 'cancelled', visibility: 'members' });
    const event = `/v1/events/${snapshot.eventId}`;
    for (const route of ['availability', 'seats']) {
      const read = await svc.call(stranger, 'GET', `${event}/${route}`);
      expect(read.statusCode, route).toBe(404);
    }
    // An update of the draft delivered late cannot make it public again.
    await svc.deliver(...renamed(snapshot));
    expect(await findEvent(svc.db, snapshot.eventId)).toMatchObject({ visibility: 'members' });
  });

  it('a cancellation that arrives before the publish keeps the event closed', async () => {
    const snapshot = eventSnapshot();
    const { eventId } = snapshot;
    const who = await svc.user();
    await cancelEvent(snapshot, 3);
    await svc.deliver(...publishedEvent(snapshot));
    await expectClosed(eventId, { status: 'cancelled' });
    // Recorded from the cancellation alone, as members-only: to anyone else it does not exist.
    const late = await svc.call(who, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    expect(late.statusCode).toBe(404);
  });

  it('an update delivered before its publish is kept, and the older publish changes nothing', async () => {
    const snapshot = eventSnapshot({ totalSlots: 5 });
    const { eventId } = snapshot;
    const who = await svc.user();
    // Catalog published (version 2), then renamed it (version 3); booking got them the other way.
    await svc.deliver(...renamed(snapshot));
    await svc.deliver(...publishedEvent(snapshot));
    expect(await findEvent(svc.db, eventId)).toMatchObject({ name: 'Renamed', catalogVersion: 3 });
    const booked = await svc.call(who, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    expect(booked.statusCode).toBe(201);
    expect(booked.json()).toMatchObject({ status: 'confirmed', seatNumbers: [1] });
  });

  it('a draft known from its update is not there for anyone: 404 on every route', async () => {
    const snapshot = { ...eventSnapshot(), status: 'draft' as const };
    const [who, organizer, admin] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.join(organizer, snapshot.orgId, 'organizer');
    await svc.join(admin, snapshot.orgId, 'orgAdmin');
    await svc.deliver(...renamed(snapshot));
    expect(await findEvent(svc.db, snapshot.eventId)).toMatchObject({ status: 'draft' });
    const event = `/v1/events/${snapshot.eventId}`;
    for (const caller of [who, organizer, admin]) {
      const booked = await svc.call(caller, 'POST', `${event}/bookings`, { seats: 1 });
      expect(booked.statusCode).toBe(404);
      for (const route of ['availability', 'seats', 'bookings']) {
        const read = await svc.call(caller, 'GET', `${event}/${route}`);
        expect(read.statusCode, route).toBe(404);
        expect(read.json().code, route).toBe('EVENT_NOT_FOUND');
      }
      const reconcile = await svc.call(caller, 'POST', `${event}/reconcile`);
      expect(reconcile.statusCode, 'reconcile').toBe(404);
      expect(reconcile.json().code, 'reconcile').toBe('EVENT_NOT_FOUND');
    }
  });

  it('a capacity change delivered before its publish is applied once the publish has landed', async () => {
    const snapshot = eventSnapshot({ totalSlots: 5 });
    const { eventId, orgId } = snapshot;
    // Catalog published (version 2), then raised the capacity (version 3); booking gets the
    // raise first: it cannot place it yet, so it is retried.
    await svc.publish(
      'catalog.event_capacity_changed',
      { eventId, orgId, previousTotalSlots: 5, totalSlots: 8 },
      { type: 'event', id: eventId, version: 3 },
    );
    await svc.deliver(...publishedEvent(snapshot));
    const who = await svc.user();
    await eventually(async () => (await findEvent(svc.db, eventId))?.totalSlots === 8, {
      timeoutMs: 30_000,
    });
    await eventually(
      async () => (await svc.ctx.inventory.availability(eventId, null))?.totalSlots === 8,
    );
    const availability = await svc.call(who, 'GET', `/v1/events/${eventId}/availability`);
    expect(availability.json()).toMatchObject({ totalSlots: 8, availableSlots: 8 });
  });

  it('a capacity change that finds the event only as a draft waits for the publish', async () => {
    const draft = { ...eventSnapshot({ totalSlots: 5 }), status: 'draft' as const };
    const { eventId, orgId } = draft;
    // Catalog renamed the draft (version 3), published it (4), raised its capacity (5); booking
    // handles the rename, then the raise, then the publish.
    await svc.deliver(...renamed(draft));
    await svc.publish(
      'catalog.event_capacity_changed',
      { eventId, orgId, previousTotalSlots: 5, totalSlots: 8 },
      { type: 'event', id: eventId, version: 5 },
    );
    await svc.deliver(
      ...publishedEvent({ ...draft, name: 'Renamed', status: 'upcoming', version: 4 }),
    );
    await eventually(
      async () => {
        const event = await findEvent(svc.db, eventId);
        return event?.status === 'upcoming' && event.totalSlots === 8;
      },
      { timeoutMs: 30_000 },
    );
    const booked = await svc.call(await svc.user(), 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 1,
    });
    expect(booked.statusCode).toBe(201);
  });

  it('a status change delivered before its publish is applied once the publish has landed', async () => {
    const snapshot = eventSnapshot();
    const { eventId, orgId } = snapshot;
    await svc.publish(
      'catalog.event_status_changed',
      { eventId, orgId, from: 'upcoming', to: 'ongoing' },
      { type: 'event', id: eventId, version: 3 },
    );
    await svc.deliver(...publishedEvent(snapshot));
    await eventually(async () => (await findEvent(svc.db, eventId))?.status === 'ongoing', {
      timeoutMs: 30_000,
    });
    const late = await svc.call(await svc.user(), 'POST', `/v1/events/${eventId}/bookings`, {
      seats: 1,
    });
    expect(late.json().code).toBe('EVENT_NOT_OPEN');
  });

  it('status changes close bookings; updates refresh the name carried by events', async () => {
    const { eventId, orgId, snapshot } = await svc.openEvent({ totalSlots: 5 });
    const [a, b] = await Promise.all([svc.user(), svc.user()]);
    await svc.publish(...renamed(snapshot));
    await eventually(async () => (await findEvent(svc.db, eventId))?.name === 'Renamed');
    const booked = (
      await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })
    ).json();
    const confirmed = await eventually(
      () => svc.eventsOf('booking.booking_confirmed', (e) => e.data.bookingId === booked.id)[0],
    );
    expect(confirmed.data.eventName).toBe('Renamed');
    // The version of the details it was decided with, for consumers to tell newer ones apart.
    expect(confirmed.data.eventVersion).toBe(3);

    await svc.publish(
      'catalog.event_status_changed',
      { eventId, orgId, from: 'upcoming', to: 'ongoing' },
      {
        type: 'event',
        id: eventId,
        version: 4,
      },
    );
    await eventually(async () => (await findEvent(svc.db, eventId))?.status === 'ongoing');
    expect(
      (await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 })).json().code,
    ).toBe('EVENT_NOT_OPEN');
    // the owner may no longer cancel once it started
    expect((await svc.call(a, 'POST', `/v1/bookings/${booked.id}/cancel`, {})).json().code).toBe(
      'BOOKING_NOT_CANCELLABLE',
    );
  });

  it('closes the waitlist once its event completed: each booking still waiting is cancelled, the confirmed stay', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 1 });
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    const held = (await svc.book(a, eventId, 1)).json();
    const first = (await svc.book(b, eventId, 1)).json();
    const second = (await svc.book(c, eventId, 1)).json();
    expect([first.waitlistPosition, second.waitlistPosition]).toEqual([1, 2]);
    for (const [from, to, version] of [
      ['upcoming', 'ongoing', 3],
      ['ongoing', 'completed', 4],
    ] as const) {
      await svc.deliver(
        'catalog.event_status_changed',
        { eventId, orgId, from, to },
        { type: 'event', id: eventId, version },
      );
    }
    expect(await svc.ctx.inventory.exists(eventId)).toBe(false);
    for (const [who, booking] of [
      [b, first],
      [c, second],
    ] as const) {
      expect((await svc.call(who, 'GET', `/v1/bookings/${booking.id}`)).json()).toMatchObject({
        status: 'cancelled',
        cancelledReason: 'event_completed',
        waitlistPosition: null,
      });
      const cancelled = await eventually(
        () => svc.eventsOf('booking.booking_cancelled', (e) => e.data.bookingId === booking.id)[0],
        { what: 'the closed waiting booking announced' },
      );
      expect(cancelled.version).toBe(2);
      expect(cancelled.data).toMatchObject({
        previousStatus: 'waiting',
        seatNumbers: [],
        reason: 'event_completed',
        cancelledBy: orgId,
      });
    }
    expect((await svc.call(a, 'GET', `/v1/bookings/${held.id}`)).json().status).toBe('confirmed');
    expect((await svc.call(b, 'GET', '/v1/me/bookings?status=waiting')).json().items).toEqual([]);
    // Announced closed, so consumers do not keep the waitlist of two from before.
    const newest = () =>
      svc
        .eventsOf('booking.availability_changed', (e) => e.data.eventId === eventId)
        .reduce<{ data: { sequence: number; waitlistLength: number } } | undefined>(
          (last, e) => (last && last.data.sequence > e.data.sequence ? last : e),
          undefined,
        );
    const closed = await eventually(() => newest()?.data.waitlistLength === 0 && newest(), {
      what: 'the closed figures announced last',
    });
    expect(closed.data).toMatchObject({ totalSlots: 1, availableSlots: 0, confirmedSeats: 1 });
    const history = (await svc.call(c, 'GET', `/v1/bookings/${second.id}/history`)).json();
    expect(history.items.at(-1)).toMatchObject({
      action: 'cancelled',
      details: { reason: 'event_completed' },
    });
  });

  it('after lowering capacity below what is booked, freed seats are not sold until the bookings beyond it go', async () => {
    const { eventId, a, b, c, beyond: second } = await capacityLoweredBelowBooked();
    // Seats 1 and 2 are free, but seats 3 and 4 still hold the event's two seats' worth.
    expect((await svc.call(a, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 2,
      availableSlots: 0,
      waitlistLength: 0,
    });
    const late = (await svc.book(c, eventId, 2)).json();
    expect(late).toMatchObject({ status: 'waiting', waitingNumber: 1 });
    await expectConsistent(svc, eventId, 2, 'fifo');
    // Once the booking beyond the capacity goes, the one waiting gets seats within it.
    expect((await svc.call(b, 'POST', `/v1/bookings/${second.id}/cancel`, {})).statusCode).toBe(
      200,
    );
    expect((await svc.call(c, 'GET', `/v1/bookings/${late.id}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1, 2],
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('a cancellation beyond a lowered capacity frees nothing for sale until it commits', async () => {
    const { eventId, b, c, beyond } = await capacityLoweredBelowBooked();
    // b's cancellation has released seats 3 and 4 in Redis, and then fails to be written.
    const { cancelled, late } = await withGate(svc.db, (gate) =>
      withFailingInserts(
        svc.db,
        'booking_history',
        sql`NEW.action = 'cancelled'`,
        async () => {
          const cancelling = svc.call(b, 'POST', `/v1/bookings/${beyond.id}/cancel`, {});
          await gate.reached();
          // Meanwhile c books: seats 1 and 2 are free, but 3 and 4 are still booked.
          const late = (await svc.book(c, eventId, 2)).json();
          await gate.open();
          return { cancelled: await cancelling, late };
        },
        gate.key,
      ),
    );
    expect(cancelled.statusCode).toBe(500);
    expect(late).toMatchObject({ status: 'waiting' });
    expect((await svc.call(b, 'GET', `/v1/bookings/${beyond.id}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [3, 4],
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('a settle whose answer is lost rebuilds the event, so the promotion it made is recorded', async () => {
    const { eventId, b, c, beyond } = await capacityLoweredBelowBooked();
    const late = (await svc.book(c, eventId, 2)).json();
    expect(late).toMatchObject({ status: 'waiting' });
    // The settle runs (and promotes c in Redis), but its answer never comes back.
    const inventory = svc.ctx.inventory;
    const settle = inventory.settleBeyondTotal;
    inventory.settleBeyondTotal = async (...args) => {
      await settle.apply(inventory, args);
      throw new Error('the answer was lost');
    };
    try {
      expect((await svc.call(b, 'POST', `/v1/bookings/${beyond.id}/cancel`, {})).statusCode).toBe(
        200,
      );
    } finally {
      inventory.settleBeyondTotal = settle;
    }
    expect((await svc.call(c, 'GET', `/v1/bookings/${late.id}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [1, 2],
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('a request whose rebuild fails is answered 503 with Retry-After, then books once it succeeds', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const [holder, waiter, newcomer] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    expect((await svc.book(holder, eventId, 1)).json().status).toBe('confirmed');
    const waiting = (await svc.book(waiter, eventId, 1)).json();
    // The keys are gone and the rebuild they call for promotes the waiter, which fails to record.
    await sql`UPDATE event_inventory SET total_slots = 2 WHERE event_id = ${eventId}`.execute(
      svc.db,
    );
    await svc.ctx.inventory.drop(eventId);
    const [booking, availability] = await withFailingInserts(
      svc.db,
      'booking_history',
      sql`NEW.action = 'promoted'`,
      async () => [
        await svc.book(newcomer, eventId, 1),
        await svc.call(newcomer, 'GET', `/v1/events/${eventId}/availability`),
      ],
    );
    for (const answer of [booking, availability]) {
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.json().code).toBe('EVENT_INVENTORY_REBUILDING');
    }
    expect(await svc.ctx.inventory.exists(eventId)).toBe(false);
    expect((await svc.book(newcomer, eventId, 1)).json()).toMatchObject({ status: 'waiting' });
    expect((await svc.call(waiter, 'GET', `/v1/bookings/${waiting.id}`)).json().status).toBe(
      'confirmed',
    );
    await expectConsistent(svc, eventId, 2, 'fifo');
  });

  it('on-demand reconcile rebuilds missing keys; a booking finding them missing rebuilds and succeeds', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 4 });
    const [a, b, admin] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.join(admin, orgId, 'orgAdmin');
    await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 3 });
    await svc.ctx.inventory.drop(eventId);
    const response = await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 2 });
    expect(response.json()).toMatchObject({ status: 'waiting', waitingNumber: 1 });
    await svc.ctx.inventory.drop(eventId);
    expect((await svc.call(admin, 'POST', `/v1/events/${eventId}/reconcile`)).statusCode).toBe(200);
    await expectConsistent(svc, eventId, 4, 'fifo');
  });

  it('a rebuild that fails drops the keys, so the next request rebuilds them instead of deciding on them', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 1 });
    const [holder, waiter, admin] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.join(admin, orgId, 'orgAdmin');
    expect((await svc.book(holder, eventId, 1)).json().status).toBe('confirmed');
    const waiting = (await svc.book(waiter, eventId, 1)).json();
    expect(waiting.status).toBe('waiting');
    // Postgres holds a capacity raise Redis has not seen (what the capacity consumer commits
    // before it reconciles); the rebuild promotes the waiter, and recording that fails.
    await sql`UPDATE event_inventory SET total_slots = 2 WHERE event_id = ${eventId}`.execute(
      svc.db,
    );
    const failed = await withFailingInserts(
      svc.db,
      'booking_history',
      sql`NEW.action = 'promoted'`,
      () => svc.call(admin, 'POST', `/v1/events/${eventId}/reconcile`),
    );
    expect(failed.statusCode).toBe(500);
    // Redis had been rebuilt with a promotion Postgres never recorded: its keys are gone.
    expect(await svc.ctx.inventory.exists(eventId)).toBe(false);
    expect((await svc.call(holder, 'GET', `/v1/events/${eventId}/availability`)).json()).toEqual({
      totalSlots: 2,
      availableSlots: 0,
      waitlistLength: 0,
    });
    expect((await svc.call(waiter, 'GET', `/v1/bookings/${waiting.id}`)).json()).toMatchObject({
      status: 'confirmed',
      seatNumbers: [2],
    });
    await expectConsistent(svc, eventId, 2, 'fifo');
  });
});
