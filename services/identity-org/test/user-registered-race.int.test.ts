import { randomUUID } from 'node:crypto';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const ROUNDS = 20;

describe('first contact with tokens of different ages at once', () => {
  it('publishes user_registered once, at version 1', async () => {
    const subs: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sub = randomUUID();
      subs.push(sub);
      // The same person from two devices: one token minted 30 s before the other. Whichever
      // request inserts the row, the other must not announce the same details again.
      const newer = await h.user({ sub });
      const older = await h.user({ sub, issuedAgo: 30 });
      const answers = await Promise.all(
        [older, newer, older, newer].map((who) => h.call(who, 'GET', '/v1/me')),
      );
      expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    }

    // What was enqueued, written with the requests: one announcement per person, version 1.
    const { rows } = await sql<{ sub: string; version: number }>`
      SELECT payload->'data'->>'userId' AS sub, (payload->'aggregate'->>'version')::int AS version
      FROM outbox
      WHERE routing_key = 'identity.user_registered' AND payload->'data'->>'userId' IN (${sql.join(subs)})
      ORDER BY id`.execute(h.db);
    expect(rows.map((r) => r.version)).toEqual(subs.map(() => 1));
    expect(new Set(rows.map((r) => r.sub)).size).toBe(ROUNDS);

    // And what was published, once the relay has confirmed every one of those rows.
    await eventually(
      async () => {
        const { rows: unpublished } = await sql<{ count: string }>`
          SELECT count(*) AS count FROM outbox
          WHERE routing_key = 'identity.user_registered' AND published_at IS NULL
            AND payload->'data'->>'userId' IN (${sql.join(subs)})`.execute(h.db);
        return Number(unpublished[0]?.count) === 0;
      },
      { what: 'the announcements to be published' },
    );
    for (const sub of subs) {
      await h.event('identity.user_registered', (e) => e.data.userId === sub);
      const published = h.events.filter(
        (e) => e.type === 'identity.user_registered' && e.data.userId === sub,
      );
      expect(published.map((e) => e.aggregate.version)).toEqual([1]);
    }
  });

  it('still announces a change the newer token brings, once per version', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const sub = randomUUID();
      const newer = await h.user({ sub, name: 'New Name' });
      const older = await h.user({ sub, name: 'Old Name', issuedAgo: 30 });
      await Promise.all([older, newer, older, newer].map((who) => h.call(who, 'GET', '/v1/me')));
      const { version, full_name } = await h.db
        .selectFrom('users')
        .select(['version', 'full_name'])
        .where('id', '=', sub)
        .executeTakeFirstOrThrow();
      expect(full_name).toBe('New Name');
      // Version 2 when the older token inserted the row and the newer one renamed it.
      const { rows } = await sql<{ version: number; name: string }>`
        SELECT (payload->'aggregate'->>'version')::int AS version, payload->'data'->>'name' AS name
        FROM outbox
        WHERE routing_key = 'identity.user_registered' AND payload->'data'->>'userId' = ${sub}
        ORDER BY id`.execute(h.db);
      expect(rows.map((r) => r.version)).toEqual(version === 1 ? [1] : [1, 2]);
      expect(rows.at(-1)?.name).toBe('New Name');
    }
  });

  it('announces the verification the newer token brings, once per version', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const sub = randomUUID();
      const newer = await h.user({ sub, emailVerified: true });
      const older = await h.user({ sub, emailVerified: false, issuedAgo: 30 });
      await Promise.all([older, newer, older, newer].map((who) => h.call(who, 'GET', '/v1/me')));
      const { version, email_verified } = await h.db
        .selectFrom('users')
        .select(['version', 'email_verified'])
        .where('id', '=', sub)
        .executeTakeFirstOrThrow();
      expect(email_verified).toBe(true);
      const { rows } = await sql<{ version: number; verified: boolean }>`
        SELECT (payload->'aggregate'->>'version')::int AS version,
               (payload->'data'->>'emailVerified')::boolean AS verified
        FROM outbox
        WHERE routing_key = 'identity.user_registered' AND payload->'data'->>'userId' = ${sub}
        ORDER BY id`.execute(h.db);
      expect(rows.map((r) => r.version)).toEqual(version === 1 ? [1] : [1, 2]);
      expect(rows.at(-1)?.verified).toBe(true);
    }
  });
});
