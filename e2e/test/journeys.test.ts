import { randomBytes } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type ApiResponse, apiClient } from '../../scripts/start/api.client.ts';
import { keycloakAdmin, type Person } from '../src/keycloak-admin.ts';
import { type Mail, mailbox } from '../src/mail-sink.ts';

const platform = inject('platform');
const api = apiClient(platform.gatewayUrl);
const mails = mailbox(platform.mailApiUrl);
const people = keycloakAdmin(platform.keycloakUrl, platform.tokenUrl);

interface Booking {
  id: string;
  eventId: string;
  userId: string;
  seats: number;
  status: 'confirmed' | 'waiting' | 'cancelled';
  seatNumbers: number[];
  waitingNumber: number | null;
  waitlistPosition: number | null;
  cancelledReason: string | null;
}
interface CatalogEvent {
  id: string;
  name: string;
  status: string;
  startsAt: string;
  version: number;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Waits until `address` received a mail whose subject contains `subject`. */
function mailTo(address: string, subject: string): Promise<Mail> {
  return eventually(async () => (await mails.to(address, subject))[0], {
    timeoutMs: 45_000,
    what: `a mail "${subject}" to ${address}`,
  });
}

function futureWindow(daysAhead: number, hours = 3) {
  const startsAt = new Date(Date.now() + daysAhead * 86_400_000);
  startsAt.setUTCHours(18, 0, 0, 0);
  return {
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + hours * 3_600_000).toISOString(),
  };
}

/** Creates an event as `organizer` once catalog knows their role (fed by identity's events). */
function createEvent(organizer: Person, orgId: string, body: Record<string, unknown>) {
  return eventually(
    async () => {
      const res = await api.post<CatalogEvent>(`/v1/orgs/${orgId}/events`, {
        token: organizer.token,
        body: { category: 'concert', timezone: 'Europe/Paris', ...body },
      });
      return res.status === 201 ? res.body : undefined;
    },
    { timeoutMs: 30_000, what: 'catalog to accept the organizer' },
  );
}

/** Books once booking has opened the event (catalog's `event_published` reached it). */
function book(person: Person, eventId: string, seats: number): Promise<ApiResponse<Booking>> {
  const key = randomBytes(8).toString('hex');
  return eventually(
    async () => {
      const res = await api.post<Booking>(`/v1/events/${eventId}/bookings`, {
        token: person.token,
        body: { seats },
        headers: { 'idempotency-key': key },
      });
      return res.status === 404 || res.status === 422 ? undefined : res;
    },
    { timeoutMs: 30_000, what: 'booking to open the event' },
  );
}

const runId = randomBytes(3).toString('hex');
let alice: Person; // orgAdmin of the organization the journeys run in
let bob: Person; // invited as organizer
let carol: Person;
let dave: Person;
let erin: Person; // a newcomer who ends up on the waitlist
let mallory: Person; // orgAdmin of another organization
let frank: Person; // never calls identity-org: books first
let orgId: string;
let bigEvent: CatalogEvent;
let smallEvent: CatalogEvent;
let draftEvent: CatalogEvent;
let carolBooking: Booking;
let bobsInviteToken: string;

beforeAll(async () => {
  [alice, bob, carol, dave, erin, mallory, frank] = await Promise.all([
    people.signIn('alice'),
    people.signIn('bob'),
    people.signIn('carol'),
    people.signIn('dave'),
    people.createPerson('Erin'),
    people.createPerson('Mallory'),
    people.createPerson('Frank'),
  ]);
  // First contact: identity-org mirrors everyone, and notification learns where to mail them.
  for (const person of [alice, bob, carol, dave, erin, mallory]) {
    expect((await api.get('/v1/me', { token: person.token })).status).toBe(200);
  }
  const signup = await api.post<{ organization: { id: string } }>('/v1/signup', {
    token: alice.token,
    body: { organizationName: `Journeys ${runId}` },
  });
  expect(signup.status).toBe(201);
  orgId = signup.body.organization.id;
  const other = await api.post('/v1/signup', {
    token: mallory.token,
    body: { organizationName: `Elsewhere ${runId}` },
  });
  expect(other.status).toBe(201);
});

describe.sequential('journeys through the gateway', () => {
  it('1. an orgAdmin invites an organizer by mail, who publishes an event that users see', async () => {
    const invite = await api.post<{ token: string; role: string }>(`/v1/orgs/${orgId}/invites`, {
      token: alice.token,
      body: { email: bob.email, role: 'organizer' },
    });
    expect(invite.status).toBe(201);
    bobsInviteToken = invite.body.token;
    // The created invite's Location reads back through the gateway.
    const location = invite.headers.get('location');
    const pending = await api.get<{ status: string }>(location ?? '', { token: alice.token });
    expect(pending.status).toBe(200);
    expect(pending.body.status).toBe('pending');

    const mail = await mailTo(bob.email, `You are invited to join Journeys ${runId}`);
    const link = /\/invites\/accept\?token=([\w-]+)/.exec(mail.text);
    expect(link?.[1]).toBe(invite.body.token);

    const accepted = await api.post<{ membership: { role: string; userId: string } }>(
      '/v1/invites/accept',
      { token: bob.token, body: { token: link?.[1] } },
    );
    expect(accepted.status).toBe(200);
    expect(accepted.body.membership).toMatchObject({ role: 'organizer', userId: bob.id });

    bigEvent = await createEvent(bob, orgId, {
      name: `Open Air ${runId}`,
      totalSlots: 50,
      ...futureWindow(20),
    });
    expect(bigEvent.status).toBe('draft');
    const published = await api.post<CatalogEvent>(`/v1/events/${bigEvent.id}/publish`, {
      token: bob.token,
    });
    expect(published.status).toBe(200);
    expect(published.body.status).toBe('upcoming');

    const listing = await api.get<Page<CatalogEvent>>(`/v1/events?q=${runId}`, {
      token: carol.token,
    });
    expect(listing.status).toBe(200);
    expect(listing.body.items.map((e) => e.id)).toContain(bigEvent.id);
  });

  it('2. a user books 2 seats: confirmed with seat numbers, history saved, mail sent', async () => {
    const res = await book(carol, bigEvent.id, 2);
    expect(res.status).toBe(201);
    carolBooking = res.body;
    expect(carolBooking).toMatchObject({ status: 'confirmed', seats: 2, userId: carol.id });
    expect(carolBooking.seatNumbers).toEqual([1, 2]);

    const history = await api.get<{ items: { action: string; version: number }[] }>(
      `/v1/bookings/${carolBooking.id}/history`,
      { token: carol.token },
    );
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([
      expect.objectContaining({ action: 'created', version: 1 }),
    ]);

    const mine = await api.get<Page<Booking>>('/v1/me/bookings', { token: carol.token });
    expect(mine.body.items.map((b) => b.id)).toContain(carolBooking.id);

    const mail = await mailTo(carol.email, `Booking confirmed: Open Air ${runId}`);
    expect(mail.text).toContain('Seats: 2');
    expect(mail.text).toMatch(/Seat numbers: 1\D+2\b/);

    // The organization's admin sees it among the organization's notifications (sent once the
    // mail server's answer is recorded), without Carol's address or the message.
    const confirmation = await eventually(
      async () => {
        const notices = await api.get<Page<Record<string, unknown>>>(
          `/v1/orgs/${orgId}/notifications?limit=100`,
          { token: alice.token },
        );
        expect(notices.status).toBe(200);
        const found = notices.body.items.find((n) => n.bookingId === carolBooking.id);
        return found?.status === 'sent' && found;
      },
      { what: "Carol's confirmation in the organization's notifications" },
    );
    expect(confirmation).toMatchObject({ type: 'booking_confirmed' });
    expect(confirmation).not.toHaveProperty('recipient');
  });

  it('2b. someone whose very first call is a booking is mailed too (the gateway introduces them)', async () => {
    const res = await book(frank, bigEvent.id, 1);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'confirmed', userId: frank.id });
    const mail = await mailTo(frank.email, `Booking confirmed: Open Air ${runId}`);
    expect(mail.text).toContain('Seats: 1');
  });

  it('3. a full event puts a newcomer on the waitlist; a cancellation promotes them; both are told', async () => {
    smallEvent = await createEvent(bob, orgId, {
      name: `Cellar Gig ${runId}`,
      totalSlots: 3,
      maxSeatsPerBooking: 2,
      ...futureWindow(10),
    });
    expect(
      (await api.post(`/v1/events/${smallEvent.id}/publish`, { token: bob.token })).status,
    ).toBe(200);

    const carols = await book(carol, smallEvent.id, 2);
    const daves = await book(dave, smallEvent.id, 1);
    expect([carols.status, daves.status]).toEqual([201, 201]);
    expect(carols.body.seatNumbers).toEqual([1, 2]);
    expect(daves.body.seatNumbers).toEqual([3]);

    const erins = await book(erin, smallEvent.id, 1);
    expect(erins.status).toBe(201);
    expect(erins.body).toMatchObject({ status: 'waiting', waitingNumber: 1, seatNumbers: [] });
    const availability = await api.get(`/v1/events/${smallEvent.id}/availability`, {
      token: erin.token,
    });
    expect(availability.body).toMatchObject({
      totalSlots: 3,
      availableSlots: 0,
      waitlistLength: 1,
    });
    await mailTo(erin.email, `You are on the waitlist: Cellar Gig ${runId}`);

    const cancelled = await api.post<Booking>(`/v1/bookings/${carols.body.id}/cancel`, {
      token: carol.token,
      body: {},
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');

    const promoted = await eventually(
      async () => {
        const res = await api.get<Booking>(`/v1/bookings/${erins.body.id}`, { token: erin.token });
        return res.body.status === 'confirmed' ? res.body : undefined;
      },
      { what: "erin's booking to be promoted" },
    );
    expect(promoted.seatNumbers).toHaveLength(1);
    expect([1, 2]).toContain(promoted.seatNumbers[0]);

    await mailTo(carol.email, `Booking cancelled: Cellar Gig ${runId}`);
    const good = await mailTo(erin.email, `your seats for Cellar Gig ${runId} are confirmed`);
    expect(good.text).toContain(`Seat numbers: ${promoted.seatNumbers[0]}`);
  });

  it('4. a new time is announced to every holder; cancelling the event cancels and tells them all', async () => {
    const current = await api.get<CatalogEvent>(`/v1/events/${smallEvent.id}`, {
      token: bob.token,
    });
    const etag = current.headers.get('etag');
    expect(etag).toBeTruthy();
    const patched = await api.request<CatalogEvent>('PATCH', `/v1/events/${smallEvent.id}`, {
      token: bob.token,
      body: futureWindow(12),
      headers: { 'if-match': etag ?? '' },
    });
    expect(patched.status).toBe(200);

    const updateSubject = `Event updated: Cellar Gig ${runId}`;
    await Promise.all([mailTo(dave.email, updateSubject), mailTo(erin.email, updateSubject)]);
    // Carol gave her seats back before the change: she holds nothing and hears nothing.
    expect(await mails.to(carol.email, updateSubject)).toEqual([]);

    const cancel = await api.post<CatalogEvent>(`/v1/events/${smallEvent.id}/cancel`, {
      token: bob.token,
      body: { reason: 'The cellar is flooded' },
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');

    const holders = await api.get<Page<Booking>>(`/v1/events/${smallEvent.id}/bookings`, {
      token: bob.token,
    });
    const ids = holders.body.items.map((b) => b.id);
    expect(ids).toHaveLength(3);
    await eventually(
      async () => {
        const res = await api.get<Page<Booking>>(`/v1/events/${smallEvent.id}/bookings`, {
          token: bob.token,
        });
        return res.body.items.every((b) => b.status === 'cancelled');
      },
      { what: 'every booking of the cancelled event to be cancelled' },
    );
    const cancelSubject = `Event cancelled: Cellar Gig ${runId}`;
    const [toDave, toErin] = await Promise.all([
      mailTo(dave.email, cancelSubject),
      mailTo(erin.email, cancelSubject),
    ]);
    expect(toDave.text).toContain('The cellar is flooded');
    expect(toErin.text).toContain('The cellar is flooded');
    // One cancellation, one message: no separate "booking cancelled" notice on top.
    expect(await mails.to(dave.email, `Booking cancelled: Cellar Gig ${runId}`)).toEqual([]);
  });

  it('5. a member of another organization and an anonymous caller are refused where they do not belong', async () => {
    draftEvent = await createEvent(bob, orgId, {
      name: `Secret ${runId}`,
      totalSlots: 5,
      ...futureWindow(30),
    });
    const outsider = mallory.token;
    const refusals: [string, string, unknown, number[]][] = [
      ['GET', `/v1/orgs/${orgId}`, undefined, [404]],
      ['GET', `/v1/orgs/${orgId}/members`, undefined, [404]],
      ['POST', `/v1/orgs/${orgId}/invites`, { email: mallory.email, role: 'orgAdmin' }, [404]],
      ['GET', `/v1/orgs/${orgId}/audit`, undefined, [404]],
      ['GET', `/v1/orgs/${orgId}/notifications`, undefined, [404]],
      [
        'POST',
        `/v1/orgs/${orgId}/events`,
        { name: 'Hijack', category: 'other', timezone: 'UTC', totalSlots: 5, ...futureWindow(5) },
        [404],
      ],
      ['GET', `/v1/orgs/${orgId}/events`, undefined, [404]],
      ['GET', `/v1/events/${draftEvent.id}`, undefined, [404]],
      ['POST', `/v1/events/${draftEvent.id}/publish`, undefined, [404]],
      ['POST', `/v1/events/${bigEvent.id}/publish`, undefined, [403, 404]],
      ['POST', `/v1/events/${bigEvent.id}/cancel`, { reason: 'mine now' }, [403, 404]],
      ['GET', `/v1/events/${bigEvent.id}/bookings`, undefined, [404]],
      ['POST', `/v1/events/${bigEvent.id}/reconcile`, undefined, [404]],
      ['GET', `/v1/bookings/${carolBooking.id}`, undefined, [404]],
      ['GET', `/v1/bookings/${carolBooking.id}/history`, undefined, [404]],
      ['POST', `/v1/bookings/${carolBooking.id}/cancel`, {}, [404]],
      ['POST', '/v1/invites/accept', { token: bobsInviteToken }, [403]],
    ];
    for (const [method, path, body, expected] of refusals) {
      const res = await api.request(method, path, { token: outsider, body });
      expect(expected, `${method} ${path} answered ${res.status}`).toContain(res.status);
      if (path.startsWith(`/v1/orgs/${orgId}`)) {
        // One code for the same refusal, whichever service answers it.
        expect((res.body as { code?: string }).code, `${method} ${path}`).toBe(
          'ORGANIZATION_NOT_FOUND',
        );
      }
    }
    const patch = await api.request('PATCH', `/v1/events/${bigEvent.id}`, {
      token: outsider,
      body: { name: 'Taken over' },
      headers: { 'if-match': String(bigEvent.version + 1) },
    });
    expect([403, 404]).toContain(patch.status);
    const stillCarols = await api.get<Booking>(`/v1/bookings/${carolBooking.id}`, {
      token: carol.token,
    });
    expect(stillCarols.body.status).toBe('confirmed');

    // The organizer of one organization is an outsider to the other.
    const mallorysOrg = (
      await api.get<{ memberships: { organization: { id: string } }[] }>('/v1/me', {
        token: mallory.token,
      })
    ).body.memberships[0]?.organization.id;
    expect((await api.get(`/v1/orgs/${mallorysOrg}/members`, { token: bob.token })).status).toBe(
      404,
    );

    const anonymous: [string, string][] = [
      ['GET', '/v1/me'],
      ['GET', '/v1/events'],
      ['GET', `/v1/events/${bigEvent.id}`],
      ['POST', `/v1/events/${bigEvent.id}/bookings`],
      ['GET', `/v1/bookings/${carolBooking.id}`],
      ['POST', `/v1/orgs/${orgId}/invites`],
      ['POST', '/v1/invites/accept'],
      ['GET', '/v1/me/notifications'],
    ];
    for (const [method, path] of anonymous) {
      for (const token of [undefined, `${carol.token.slice(0, -4)}AAAA`]) {
        const res = await api.request(method, path, {
          token,
          body: method === 'POST' ? {} : undefined,
        });
        expect({ path, token: Boolean(token), status: res.status }).toEqual({
          path,
          token: Boolean(token),
          status: 401,
        });
      }
    }
  });
});
