import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, eventBody, startCatalog, type TestUser } from './harness.ts';

interface Listed {
  id: string;
  orgId: string;
  name: string;
  category: string;
  startsAt: string;
  endsAt: string;
  status: string;
  visibility: string;
}

let catalog: Catalog;
let organizerA: TestUser;
let organizerB: TestUser;
let stranger: TestUser;
const orgA = randomUUID();
const orgB = randomUUID();
const base = Date.UTC(2031, 0, 1, 18);
const at = (hours: number) => new Date(base + hours * 3_600_000).toISOString();
const CATEGORIES = ['concert', 'webinar', 'meetup', 'workshop'] as const;
const PUBLIC_COUNT = 240;

async function create(who: TestUser, orgId: string, overrides: Record<string, unknown>) {
  const res = await catalog.call(who, 'POST', `/v1/orgs/${orgId}/events`, eventBody(overrides));
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Listed;
}

async function publish(who: TestUser, id: string) {
  const res = await catalog.call(who, 'POST', `/v1/events/${id}/publish`);
  expect(res.statusCode, res.body).toBe(200);
}

async function inChunks<T>(count: number, size: number, make: (i: number) => Promise<T>) {
  const out: T[] = [];
  for (let i = 0; i < count; i += size) {
    const chunk = Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j));
    out.push(...(await Promise.all(chunk)));
  }
  return out;
}

/** Follows nextCursor to the end and returns every item in order. */
async function allPages(who: TestUser, query: string, limit: number) {
  const items: Listed[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url = `/v1/events?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await catalog.call(who, 'GET', url);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { items: Listed[]; nextCursor: string | null };
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < 100);
  return items;
}

const byKeyset = (a: Listed, b: Listed) =>
  a.startsAt === b.startsAt ? (a.id < b.id ? -1 : 1) : a.startsAt < b.startsAt ? -1 : 1;

beforeAll(async () => {
  catalog = await startCatalog();
  [organizerA, organizerB, stranger] = await Promise.all([
    catalog.user(),
    catalog.user(),
    catalog.user(),
  ]);
  await catalog.join(organizerA, orgA, 'organizer');
  await catalog.join(organizerB, orgB, 'organizer');

  // Ten events share each start time, so the id has to break ties for the order to be stable.
  await inChunks(PUBLIC_COUNT, 20, async (i) => {
    const event = await create(organizerA, orgA, {
      name: i % 8 === 0 ? `Jazz evening ${i}` : `Evening ${i}`,
      description: i % 8 === 1 ? 'Saxophone and jazz standards' : 'Something else',
      category: CATEGORIES[i % CATEGORIES.length],
      startsAt: at(i % 24),
      endsAt: at((i % 24) + 2),
    });
    await publish(organizerA, event.id);
    return event;
  });
  // Members-only events of org B, drafts and a cancelled event: none of them for strangers.
  await inChunks(6, 6, async (i) => {
    const event = await create(organizerB, orgB, {
      name: `Members jazz ${i}`,
      visibility: 'members',
      startsAt: at(i),
      endsAt: at(i + 1),
    });
    await publish(organizerB, event.id);
  });
  await inChunks(4, 4, (i) =>
    create(organizerA, orgA, { name: `Jazz draft ${i}`, startsAt: at(i), endsAt: at(i + 1) }),
  );
  const cancelled = await create(organizerA, orgA, {
    name: 'Jazz cancelled',
    startsAt: at(3),
    endsAt: at(4),
  });
  await publish(organizerA, cancelled.id);
  await catalog.call(organizerA, 'POST', `/v1/events/${cancelled.id}/cancel`, { reason: 'r' });
}, 240_000);
afterAll(() => catalog?.stop());

describe('public listing', () => {
  it('pages through every visible event once, in (startsAt, id) order, the same way twice', async () => {
    const first = await allPages(stranger, 'from=2031-01-01T00:00:00Z', 17);
    expect(first).toHaveLength(PUBLIC_COUNT);
    expect(new Set(first.map((e) => e.id)).size).toBe(PUBLIC_COUNT);
    expect([...first].sort(byKeyset).map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(first.every((e) => e.orgId === orgA && e.status === 'upcoming')).toBe(true);

    const second = await allPages(stranger, 'from=2031-01-01T00:00:00Z', 17);
    expect(second.map((e) => e.id)).toEqual(first.map((e) => e.id));
    const bigPages = await allPages(stranger, 'from=2031-01-01T00:00:00Z', 100);
    expect(bigPages.map((e) => e.id)).toEqual(first.map((e) => e.id));
  });

  it('shows members-only events to the org members only', async () => {
    const member = await allPages(organizerB, `orgId=${orgB}`, 50);
    expect(member).toHaveLength(6);
    expect(member.every((e) => e.visibility === 'members')).toBe(true);
    expect(await allPages(stranger, `orgId=${orgB}`, 50)).toEqual([]);
    expect(await allPages(organizerA, `orgId=${orgB}`, 50)).toEqual([]);
  });

  it('searches names and descriptions', async () => {
    const jazz = await allPages(stranger, 'q=jazz', 25);
    const expected = Array.from({ length: PUBLIC_COUNT }, (_, i) => i).filter(
      (i) => i % 8 === 0 || i % 8 === 1,
    ).length;
    expect(jazz).toHaveLength(expected);
    expect(jazz.every((e) => e.orgId === orgA)).toBe(true);
    expect(jazz.map((e) => e.id)).toEqual([...jazz].sort(byKeyset).map((e) => e.id));
    const memberJazz = await allPages(organizerB, 'q=jazz', 100);
    expect(memberJazz).toHaveLength(expected + 6);
  });

  it('filters by category, org and time window', async () => {
    const webinars = await allPages(stranger, 'category=webinar', 100);
    expect(webinars).toHaveLength(PUBLIC_COUNT / 4);
    expect(webinars.every((e) => e.category === 'webinar')).toBe(true);

    expect(await allPages(stranger, `orgId=${orgA}`, 100)).toHaveLength(PUBLIC_COUNT);

    // Events on at some point between 10:00 and 12:00 after `base`: starts 8..12 (2 h long).
    const window = await allPages(stranger, `from=${at(10)}&to=${at(12)}&orgId=${orgA}`, 100);
    const starts = new Set(window.map((e) => e.startsAt));
    expect([...starts].sort()).toEqual([at(8), at(9), at(10), at(11), at(12)]);
    expect(window).toHaveLength(50);

    const backwards = await catalog.call(stranger, 'GET', `/v1/events?from=${at(12)}&to=${at(10)}`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().errors).toEqual([
      expect.objectContaining({ path: 'query.to', message: 'must not be before from' }),
    ]);
  });

  it('answers 400 naming the field to a NUL character in the query', async () => {
    for (const query of ['q=%00', 'q=jazz%00', 'category=%00']) {
      const res = await catalog.call(stranger, 'GET', `/v1/events?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path: `query.${query.split('=')[0]}`, message: expect.any(String) }],
      });
    }
  });

  it('refuses an unknown or misspelt parameter, naming it, instead of listing every event', async () => {
    const cases: [TestUser, string, string][] = [
      [stranger, '/v1/events?Category=concert', 'Category'],
      [stranger, '/v1/events?limit=5&from_date=2031-01-01T00:00:00Z', 'from_date'],
      [organizerA, `/v1/orgs/${orgA}/events?state=draft`, 'state'],
    ];
    for (const [who, url, key] of cases) {
      const res = await catalog.call(who, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ path: `query.${key}`, message: expect.stringContaining(key) }],
      });
    }
  });

  it('rejects a forged cursor and a page size over 100', async () => {
    expect((await catalog.call(stranger, 'GET', '/v1/events?cursor=bm9wZQ')).statusCode).toBe(400);
    expect((await catalog.call(stranger, 'GET', '/v1/events?limit=101')).statusCode).toBe(400);
  });

  it.each([
    '0x10',
    '1e1',
    '%205',
    '',
  ])('refuses limit=%s, a page size not in decimal digits', async (limit) => {
    const refused = await catalog.call(stranger, 'GET', `/v1/events?limit=${limit}`);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors).toEqual([
      expect.objectContaining({ path: expect.stringContaining('limit') }),
    ]);
  });
});

describe('org listing', () => {
  it('lists drafts and filters by status for members, 404 for others', async () => {
    const drafts = await catalog.call(organizerA, 'GET', `/v1/orgs/${orgA}/events?status=draft`);
    expect(drafts.statusCode).toBe(200);
    expect(drafts.json().items).toHaveLength(4);
    const cancelled = await catalog.call(
      organizerA,
      'GET',
      `/v1/orgs/${orgA}/events?status=cancelled`,
    );
    expect(cancelled.json().items.map((e: Listed) => e.name)).toEqual(['Jazz cancelled']);

    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res = await catalog.call(
        organizerA,
        'GET',
        `/v1/orgs/${orgA}/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      for (const item of res.json().items as Listed[]) seen.add(item.id);
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen.size).toBe(PUBLIC_COUNT + 5);

    const outsider = await catalog.call(organizerB, 'GET', `/v1/orgs/${orgA}/events`);
    expect(outsider.statusCode).toBe(404);
    expect(outsider.body).not.toContain('Jazz');
  });
});
