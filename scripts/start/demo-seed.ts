import { eventually } from '@happening/testkit';
import { type ApiClient, apiClient, expectStatus, passwordGrant } from './api.client.ts';

export const DEMO_ORG_NAME = 'Happening Demo';

/** The realm's demo users (infra/keycloak/happening-realm.json) and the part each plays. */
export const DEMO_USERS = {
  alice: { email: 'alice@happening.test', role: 'orgAdmin' },
  bob: { email: 'bob@happening.test', role: 'organizer' },
  carol: { email: 'carol@happening.test', role: 'user' },
  dave: { email: 'dave@happening.test', role: 'user' },
} as const;
type DemoUser = keyof typeof DEMO_USERS;

interface DemoEvent {
  readonly name: string;
  readonly description: string;
  readonly category: 'concert' | 'workshop' | 'meetup';
  readonly daysAhead: number;
  readonly hours: number;
  readonly venue: string;
  readonly totalSlots: number;
  readonly maxSeatsPerBooking: number;
}

/** Three published events; the last is small enough that carol and dave fill it with a waitlist. */
const DEMO_EVENTS: readonly DemoEvent[] = [
  {
    name: 'Happening Launch Party',
    description: 'Music, drinks and the first look at Happening.',
    category: 'concert',
    daysAhead: 14,
    hours: 4,
    venue: 'Le Trianon, Paris',
    totalSlots: 200,
    maxSeatsPerBooking: 10,
  },
  {
    name: 'Event Sourcing in TypeScript',
    description: 'A hands-on workshop: deciders, projections and the outbox.',
    category: 'workshop',
    daysAhead: 21,
    hours: 3,
    venue: 'Station F, Paris',
    totalSlots: 40,
    maxSeatsPerBooking: 2,
  },
  {
    name: 'Rooftop Jazz Session',
    description: 'An intimate set on the roof: three seats only.',
    category: 'concert',
    daysAhead: 10,
    hours: 2,
    venue: 'Le Perchoir, Paris',
    totalSlots: 3,
    maxSeatsPerBooking: 2,
  },
];

interface Me {
  user: { id: string };
  memberships: { organization: { id: string; name: string }; role: string }[];
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface EventView {
  id: string;
  name: string;
  status: string;
}
interface BookingView {
  id: string;
  eventId: string;
  status: string;
}

/** What the seed found or did, for the welcome text. */
export interface DemoSummary {
  readonly created: boolean;
  readonly orgId: string;
  readonly events: readonly { id: string; name: string }[];
}

/**
 * Brings the demo data into place through the public API (gateway, real Keycloak tokens). Every
 * step first looks whether its result exists, so a second start only reads, and a start that was
 * interrupted half-way completes the rest.
 */
export async function seedDemoData(options: {
  gatewayUrl: string;
  tokenUrl: string;
}): Promise<DemoSummary> {
  const api = apiClient(options.gatewayUrl);
  const tokens = {} as Record<DemoUser, string>;
  for (const user of Object.keys(DEMO_USERS) as DemoUser[]) {
    tokens[user] = await passwordGrant(options.tokenUrl, user, `${user}-password`);
  }
  // First contact: identity-org mirrors each person, so notification knows where to mail them.
  const me = {} as Record<DemoUser, Me>;
  for (const user of Object.keys(DEMO_USERS) as DemoUser[]) {
    me[user] = expectStatus(
      await api.get<Me>('/v1/me', { token: tokens[user] }),
      `${user} /v1/me`,
      200,
    );
  }

  let created = false;
  let orgId = me.alice.memberships.find((m) => m.organization.name === DEMO_ORG_NAME)?.organization
    .id;
  if (!orgId) {
    const signup = await api.post<{ organization: { id: string } }>('/v1/signup', {
      token: tokens.alice,
      body: { organizationName: DEMO_ORG_NAME },
      headers: { 'idempotency-key': 'demo-seed-signup' },
    });
    orgId = expectStatus(signup, 'alice signs up', 201).organization.id;
    created = true;
  }

  const members = expectStatus(
    await api.get<Page<{ userId: string }>>(`/v1/orgs/${orgId}/members?limit=100`, {
      token: tokens.alice,
    }),
    'members',
    200,
  ).items.map((m) => m.userId);
  for (const user of ['bob', 'carol', 'dave'] as const) {
    if (members.includes(me[user].user.id)) continue;
    const invite = await api.post<{ token: string }>(`/v1/orgs/${orgId}/invites`, {
      token: tokens.alice,
      body: { email: DEMO_USERS[user].email, role: DEMO_USERS[user].role },
    });
    const { token } = expectStatus(invite, `invite ${user}`, 201);
    expectStatus(
      await api.post('/v1/invites/accept', { token: tokens[user], body: { token } }),
      `${user} accepts`,
      200,
    );
    created = true;
  }

  const events: { id: string; name: string }[] = [];
  for (const [index, spec] of DEMO_EVENTS.entries()) {
    const result = await ensureEvent(api, tokens.bob, orgId, spec, index);
    if (result.created) created = true;
    events.push({ id: result.id, name: spec.name });
  }

  // The small event: carol takes two of its three seats, dave asks for two and waits.
  const small = events[2];
  if (small) {
    for (const user of ['carol', 'dave'] as const) {
      if (await ensureBooking(api, tokens[user], small.id, 2)) created = true;
    }
  }
  return { created, orgId, events };
}

async function ensureEvent(
  api: ApiClient,
  token: string,
  orgId: string,
  spec: DemoEvent,
  index: number,
): Promise<{ id: string; created: boolean }> {
  // Catalog learns bob's role from identity-org's events: until then it answers 404/403.
  const list = await eventually(
    async () => {
      const res = await api.get<Page<EventView>>(`/v1/orgs/${orgId}/events?limit=100`, { token });
      return res.status === 200 ? res.body.items : undefined;
    },
    { timeoutMs: 60_000, what: "catalog to know bob's membership" },
  );
  let event = list.find((e) => e.name === spec.name);
  let created = false;
  if (!event) {
    const startsAt = new Date(Date.now() + spec.daysAhead * 86_400_000);
    startsAt.setUTCHours(18, 0, 0, 0);
    const endsAt = new Date(startsAt.getTime() + spec.hours * 3_600_000);
    const { daysAhead: _d, hours: _h, ...fields } = spec;
    const body = {
      ...fields,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      timezone: 'Europe/Paris',
    };
    event = await eventually(
      async () => {
        const res = await api.post<EventView>(`/v1/orgs/${orgId}/events`, {
          token,
          body,
          headers: { 'idempotency-key': `demo-seed-event-${index}` },
        });
        return res.status === 201 ? res.body : undefined;
      },
      { timeoutMs: 60_000, what: `catalog to accept "${spec.name}"` },
    );
    created = true;
  }
  if (event.status === 'draft') {
    expectStatus(
      await api.post(`/v1/events/${event.id}/publish`, { token }),
      `publish "${spec.name}"`,
      200,
    );
    created = true;
  }
  return { id: event.id, created };
}

/** Books unless the person already holds a booking for the event; true when it booked. */
async function ensureBooking(
  api: ApiClient,
  token: string,
  eventId: string,
  seats: number,
): Promise<boolean> {
  const mine = expectStatus(
    await api.get<Page<BookingView>>('/v1/me/bookings?limit=100', { token }),
    'my bookings',
    200,
  );
  if (mine.items.some((b) => b.eventId === eventId)) return false;
  // Booking opens the event once catalog's `event_published` reached it.
  await eventually(
    async () => {
      const res = await api.post(`/v1/events/${eventId}/bookings`, {
        token,
        body: { seats },
        headers: { 'idempotency-key': `demo-seed-booking-${eventId}` },
      });
      if (res.status === 201) return true;
      if (res.status === 404 || res.status === 422 || res.status === 503) return undefined;
      throw new Error(`booking answered ${res.status} ${JSON.stringify(res.body)}`);
    },
    { timeoutMs: 60_000, what: 'booking to open the demo event' },
  );
  return true;
}
