import { randomUUID } from 'node:crypto';
import { buildEvent, type Source } from '@happening/contracts';
import { HEADERS } from '@happening/messaging';
import {
  type DrainedMessage,
  deadLetteredUnsubscribedEvent,
  drainQueue,
} from '@happening/messaging/testing';
import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleOf } from '../src/modules/memberships/membership.repository.ts';
import { type Catalog, startCatalog } from './harness.ts';

let catalog: Catalog;

beforeAll(async () => {
  catalog = await startCatalog();
});
afterAll(() => catalog?.stop());

function orgAdminJoined(orgId: string, userId: string, source: Source) {
  return buildEvent(
    'identity.member_joined',
    { organizationId: orgId, userId, role: 'orgAdmin' },
    { source, aggregate: { type: 'organization', id: orgId, version: 1 }, correlationId: 'forged' },
  );
}

describe('an identity.member_joined not published by identity-org', () => {
  it("is dead-lettered and grants nothing, while identity-org's own is applied", async () => {
    const orgId = randomUUID();
    // What a compromised catalog or booking pod could send with the platform's broker user.
    const naming = {
      catalogAsSource: orgAdminJoined(orgId, randomUUID(), 'catalog'),
      bookingRoutingKey: orgAdminJoined(orgId, randomUUID(), 'identity-org'),
      forgedRoutingKeyHeader: orgAdminJoined(orgId, randomUUID(), 'identity-org'),
    };
    await catalog.broker.publish({
      routingKey: 'identity.member_joined',
      messageId: naming.catalogAsSource.id,
      payload: naming.catalogAsSource,
    });
    // A key topic permissions let booking write, and that catalog.events is bound to.
    await catalog.broker.publish({
      routingKey: 'booking.availability_changed',
      messageId: naming.bookingRoutingKey.id,
      payload: naming.bookingRoutingKey,
    });
    await catalog.broker.publish({
      routingKey: 'booking.availability_changed',
      messageId: naming.forgedRoutingKeyHeader.id,
      payload: naming.forgedRoutingKeyHeader,
      headers: { [HEADERS.routingKey]: 'identity.member_joined' },
    });

    const deadLettered: DrainedMessage[] = [];
    await eventually(
      async () => {
        deadLettered.push(...(await drainQueue(catalog.amqpUrl, 'catalog.dlq')));
        return deadLettered.length >= 3;
      },
      { what: 'the forged events in catalog.dlq' },
    );
    const reasons = Object.fromEntries(
      deadLettered.map((message) => [message.messageId, message.headers[HEADERS.error]]),
    );
    expect(reasons).toEqual({
      [naming.catalogAsSource.id]:
        'untrusted: identity.member_joined is published by identity-org, not catalog',
      [naming.bookingRoutingKey.id]:
        "untrusted: routing key booking.availability_changed is not the event's type identity.member_joined",
      [naming.forgedRoutingKeyHeader.id]:
        "untrusted: routing key booking.availability_changed is not the event's type identity.member_joined",
    });

    const member = await catalog.user();
    await catalog.join(member, orgId, 'orgAdmin');
    for (const forged of Object.values(naming)) {
      expect(await roleOf(catalog.db, orgId, forged.data.userId)).toBeUndefined();
    }
  });
});

describe('an event catalog does not consume, reaching its queue through a binding added by hand', () => {
  it('is dead-lettered with the reason, not acknowledged unseen', async () => {
    expect(await deadLetteredUnsubscribedEvent(catalog.broker, catalog.amqpUrl, 'catalog')).toBe(
      'unprocessable: identity.user_registered is not an event catalog consumes',
    );
  });
});
