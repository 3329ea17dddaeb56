import { randomUUID } from 'node:crypto';
import { buildEvent } from '@happening/contracts';
import { EVENTS_EXCHANGE, HEADERS } from '@happening/messaging';
import { type DrainedMessage, drainQueue } from '@happening/messaging/testing';
import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booking, startBooking } from './harness.ts';

let booking: Booking;

beforeAll(async () => {
  booking = await startBooking();
});
afterAll(() => booking?.stop());

describe('an event booking does not consume, reaching its queue through a binding added by hand', () => {
  it('is dead-lettered with the reason, not acknowledged unseen', async () => {
    await booking.broker.declare({
      exchanges: [],
      queues: [],
      bindings: [
        {
          exchange: EVENTS_EXCHANGE,
          queue: 'booking.events',
          routingKey: 'identity.user_registered',
        },
      ],
    });
    const userId = randomUUID();
    const registered = buildEvent(
      'identity.user_registered',
      { userId, email: `${userId}@example.test`, name: 'Ada' },
      {
        source: 'identity-org',
        aggregate: { type: 'user', id: userId, version: 1 },
        correlationId: randomUUID(),
      },
    );
    await booking.broker.publish({
      routingKey: registered.type,
      messageId: registered.id,
      payload: registered,
    });

    const deadLettered: DrainedMessage[] = [];
    await eventually(
      async () => {
        deadLettered.push(...(await drainQueue(booking.amqpUrl, 'booking.dlq')));
        return deadLettered.some((message) => message.messageId === registered.id);
      },
      { what: 'the event in booking.dlq' },
    );
    expect(
      deadLettered.find((message) => message.messageId === registered.id)?.headers[HEADERS.error],
    ).toBe('unprocessable: identity.user_registered is not an event booking consumes');
  });
});
