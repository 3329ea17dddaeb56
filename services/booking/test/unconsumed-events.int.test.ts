import { deadLetteredUnsubscribedEvent } from '@happening/messaging/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booking, startBooking } from './harness.ts';

let booking: Booking;

beforeAll(async () => {
  booking = await startBooking();
});
afterAll(() => booking?.stop());

describe('an event booking does not consume, reaching its queue through a binding added by hand', () => {
  it('is dead-lettered with the reason, not acknowledged unseen', async () => {
    expect(await deadLetteredUnsubscribedEvent(booking.broker, booking.amqpUrl, 'booking')).toBe(
      'unprocessable: identity.user_registered is not an event booking consumes',
    );
  });
});
