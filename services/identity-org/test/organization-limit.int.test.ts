import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ORGANIZATIONS_PER_OWNER as LIMIT, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('organizations one person may own', () => {
  it('refuses the one past the limit with 409 ORGANIZATION_LIMIT, by sign-up or POST /v1/orgs', async () => {
    const owner = await h.user();
    const first = await h.call(owner, 'POST', '/v1/signup', { organizationName: 'Org 1' });
    expect(first.statusCode).toBe(201);
    for (let i = 2; i <= LIMIT; i++) {
      expect((await h.call(owner, 'POST', '/v1/orgs', { name: `Org ${i}` })).statusCode).toBe(201);
    }
    for (const [url, body] of [
      ['/v1/orgs', { name: 'One too many' }],
      ['/v1/signup', { organizationName: 'One too many' }],
    ] as const) {
      const refused = await h.call(owner, 'POST', url, body);
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'ORGANIZATION_LIMIT' });
    }
    // Someone else is not held back by it.
    expect((await h.call(await h.user(), 'POST', '/v1/orgs', { name: 'Mine' })).statusCode).toBe(
      201,
    );
  });

  it('lets no more than the limit through when one person creates many at once', async () => {
    const owner = await h.user();
    const answers = await Promise.all(
      Array.from({ length: LIMIT + 5 }, (_, i) =>
        h.call(owner, 'POST', '/v1/orgs', { name: `Race ${i}` }),
      ),
    );
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
  });
});
