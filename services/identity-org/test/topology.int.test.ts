import { type DomainEvent, parseEvent } from '@happening/contracts';
import { connectBroker, platformTopology } from '@happening/messaging';
import { eventually } from '@happening/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('topology', () => {
  it("reaches a consumer's queue with a signup served before that consumer ever started", async () => {
    const owner = await h.user();
    const orgId = await h.signUp(owner);
    // Published (and confirmed) before any consumer declared its queue.
    await h.event('identity.member_joined', (e) => e.data.organizationId === orgId);

    const logger = pino({ level: 'silent' });
    const catalog = await connectBroker({ url: h.amqpUrl, logger });
    try {
      // What catalog declares and consumes when it starts.
      await catalog.declare(platformTopology());
      const received: DomainEvent[] = [];
      const consumer = await catalog.consume({
        queue: 'catalog.events',
        parse: parseEvent,
        handler: async (event) => {
          received.push(event);
        },
      });
      const joined = await eventually(
        () =>
          received.find(
            (e) => e.type === 'identity.member_joined' && e.data.organizationId === orgId,
          ),
        { what: "the owner's membership on catalog.events" },
      );
      expect(joined.data).toMatchObject({ userId: owner.sub, role: 'orgAdmin' });
      await consumer.cancel();
    } finally {
      await catalog.close();
    }
  });
});
