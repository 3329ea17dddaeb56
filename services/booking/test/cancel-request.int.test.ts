import { fetchOpenApiDocument } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booking, startBooking } from './harness.ts';

let svc: Booking;
beforeAll(async () => {
  svc = await startBooking();
});
afterAll(async () => {
  await svc?.stop();
});

describe('a cancellation without a body', () => {
  it('cancels whether no body or an empty JSON body is sent, and the document says the body is optional', async () => {
    const { eventId } = await svc.openEvent();
    const asOwner = async (headers: Record<string, string>) => {
      const who = await svc.user();
      const booked = await svc.book(who, eventId, 1);
      expect(booked.statusCode).toBe(201);
      return svc.app.inject({
        method: 'POST',
        url: `/v1/bookings/${booked.json().id}/cancel`,
        headers: { authorization: `Bearer ${who.token}`, ...headers },
      });
    };
    const bare = await asOwner({});
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json().status).toBe('cancelled');
    const emptyJson = await asOwner({ 'content-type': 'application/json' });
    expect(emptyJson.statusCode, emptyJson.body).toBe(200);
    expect(emptyJson.json().status).toBe('cancelled');

    const doc = await fetchOpenApiDocument(svc.app);
    const operation = doc.paths?.['/v1/bookings/{bookingId}/cancel']?.post as
      | { requestBody?: { required?: boolean } }
      | undefined;
    expect(operation?.requestBody?.required ?? false).toBe(false);
  });
});
