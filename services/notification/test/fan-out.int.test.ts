import { randomUUID } from 'node:crypto';
import { MAX_BIND_PARAMETERS } from '@happening/db';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventCancelled } from './events.fixture.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ retryDelaysMs: [200, 400] });
});

afterAll(async () => {
  await h?.stop();
});

describe('fan-out to every holder of an event', () => {
  it('notifies more holders than one statement has parameters for', async () => {
    const eventId = randomUUID();
    const orgId = randomUUID();
    // More (holder, channel) rows than a single insert of notifications could carry.
    const holders = Math.ceil(MAX_BIND_PARAMETERS / 15) + 200;
    await sql`
      INSERT INTO recipients (user_id, email, name)
      SELECT 'fan-' || g, 'fan-' || g || '@example.test', 'Fan ' || g
      FROM generate_series(1, ${holders}) g`.execute(h.db);
    await sql`
      INSERT INTO event_holders (booking_id, event_id, org_id, user_id, status, booking_version)
      SELECT gen_random_uuid(), ${eventId}, ${orgId}, 'fan-' || g, 'confirmed', 1
      FROM generate_series(1, ${holders}) g`.execute(h.db);

    const cancellation = eventCancelled(eventId, orgId);
    await h.publish(cancellation);
    const emails = await eventually(
      async () => {
        const { rows } = await sql<{ n: string }>`
          SELECT count(*) AS n FROM notifications
          WHERE source_event_id = ${cancellation.id} AND channel = 'email'`.execute(h.db);
        return Number(rows[0]?.n) > 0 && Number(rows[0]?.n);
      },
      { timeoutMs: 30_000, what: 'the fan-out written' },
    );
    expect(emails).toBe(holders);
  });
});
