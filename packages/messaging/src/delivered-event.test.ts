import { randomUUID } from 'node:crypto';
import { buildEvent, type Source } from '@happening/contracts';
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { parseDeliveredEvent } from './delivered-event.ts';
import { UntrustedEvent } from './errors.ts';
import { HEADERS } from './headers.ts';
import { messageContext } from './message-context.ts';

function memberJoined(source: Source) {
  return buildEvent(
    'identity.member_joined',
    { organizationId: randomUUID(), userId: randomUUID(), role: 'orgAdmin' },
    {
      source,
      aggregate: { type: 'organization', id: randomUUID(), version: 1 },
      correlationId: 'c',
    },
  );
}

function delivery(
  exchange: string,
  routingKey: string,
  headers: Record<string, unknown> = {},
): ConsumeMessage {
  return {
    content: Buffer.from(''),
    fields: { exchange, routingKey, deliveryTag: 1, redelivered: false, consumerTag: 't' },
    properties: { headers, messageId: 'm-1' },
  } as unknown as ConsumeMessage;
}

function parseAs(event: unknown, message: ConsumeMessage) {
  return parseDeliveredEvent(JSON.parse(JSON.stringify(event)), messageContext(message));
}

describe('parseDeliveredEvent', () => {
  it("accepts an event from its type's owner under its own routing key", () => {
    const event = memberJoined('identity-org');
    expect(parseAs(event, delivery('happening.events', event.type)).id).toBe(event.id);
  });

  it("refuses an event naming another service than its type's owner", () => {
    const event = memberJoined('catalog');
    expect(() => parseAs(event, delivery('happening.events', event.type))).toThrow(UntrustedEvent);
  });

  it('refuses an event routed under a key its publisher may write, not its type', () => {
    const event = memberJoined('identity-org');
    expect(() => parseAs(event, delivery('happening.events', 'catalog.event_published'))).toThrow(
      UntrustedEvent,
    );
  });

  it('ignores a routing-key header on a delivery from the events exchange', () => {
    // Anyone may write headers; only the routing key passed the broker's topic permissions.
    const event = memberJoined('identity-org');
    const forged = delivery('happening.events', 'catalog.event_published', {
      [HEADERS.routingKey]: event.type,
    });
    expect(() => parseAs(event, forged)).toThrow(UntrustedEvent);
  });

  it('accepts a retry, which travels the default exchange with its first routing key in a header', () => {
    const event = memberJoined('identity-org');
    const retry = delivery('', 'catalog.events', {
      [HEADERS.routingKey]: event.type,
      [HEADERS.attempt]: 2,
    });
    expect(parseAs(event, retry).id).toBe(event.id);
  });

  it('accepts a replay of a message its queue dead-lettered itself, by the routing key the broker recorded', () => {
    // A consumer crashed mid-message until the queue's delivery limit dead-lettered it: no header
    // of ours, only the broker's x-death, newest first (the retry queue's entry has no exchange).
    const event = memberJoined('identity-org');
    const replay = delivery('', 'catalog.events', {
      'x-death': [
        {
          queue: 'catalog.events',
          reason: 'delivery_limit',
          exchange: '',
          'routing-keys': ['catalog.events'],
        },
        {
          queue: 'catalog.events',
          reason: 'delivery_limit',
          exchange: 'happening.events',
          'routing-keys': [event.type],
        },
      ],
    });
    expect(parseAs(event, replay).id).toBe(event.id);
  });

  it('refuses a replay that lost its headers: its routing key is its queue name', () => {
    const event = memberJoined('identity-org');
    expect(() => parseAs(event, delivery('', 'catalog.events'))).toThrow(UntrustedEvent);
  });

  it('ignores x-death on a delivery from the events exchange', () => {
    const event = memberJoined('identity-org');
    const forged = delivery('happening.events', 'catalog.event_published', {
      'x-death': [{ exchange: 'happening.events', 'routing-keys': [event.type] }],
    });
    expect(() => parseAs(event, forged)).toThrow(UntrustedEvent);
  });
});
