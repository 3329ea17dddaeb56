import {
  assertOpenApiMatchesRoutes,
  documentedOperation,
  fetchOpenApiDocument,
  type OpenApiDocument,
  operationsOf,
  parameterNames,
  requestBodySchema,
  responseBodySchema,
} from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booking, startBooking } from './harness.ts';

let booking: Booking;
let doc: OpenApiDocument;
beforeAll(async () => {
  booking = await startBooking();
  doc = await fetchOpenApiDocument(booking.app);
});
afterAll(async () => {
  await booking?.stop();
});

describe('booking OpenAPI document', () => {
  it('documents every route it serves, and nothing else', async () => {
    await assertOpenApiMatchesRoutes(booking.app);
  });

  it('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Happening booking API', version: '1.0.0' });
    expect(doc.info.description).toMatch(/bookings/i);
  });

  it('describes booking seats: body, idempotency key and the created booking', () => {
    const book = documentedOperation(doc, '/v1/events/{eventId}/bookings', 'post');
    expect(parameterNames(book)).toEqual(['header:idempotency-key', 'path:eventId']);
    const body = requestBodySchema(book);
    expect(body.required).toEqual(['seats']);
    expect(Object.keys(body.properties ?? {}).sort()).toEqual(['seatNumbers', 'seats']);
    const created = responseBodySchema(book, '201');
    expect(created.required).toEqual(
      expect.arrayContaining(['id', 'status', 'seatNumbers', 'waitlistPosition', 'version']),
    );
    expect(created.properties?.status).toMatchObject({
      enum: ['confirmed', 'waiting', 'cancelled'],
    });
  });

  it('takes an Idempotency-Key on the one route that creates, as docs/services/booking.md says', () => {
    type Method = Parameters<typeof documentedOperation>[2];
    const keyed = [...operationsOf(doc)]
      .filter(([path, method]) =>
        parameterNames(documentedOperation(doc, path, method as Method)).includes(
          'header:idempotency-key',
        ),
      )
      .map(([path, method]) => `${method} ${path}`);
    expect(keyed).toEqual(['post /v1/events/{eventId}/bookings']);
  });

  it("describes a booking's history by its own versions, without the log's global position", () => {
    const history = responseBodySchema(
      documentedOperation(doc, '/v1/bookings/{bookingId}/history', 'get'),
      '200',
    );
    const entry = history.properties?.items?.items;
    expect(Object.keys(entry?.properties ?? {}).sort()).toEqual([
      'action',
      'details',
      'occurredAt',
      'version',
    ]);
  });

  it('describes the caller’s bookings as a page and availability figures', () => {
    const mine = documentedOperation(doc, '/v1/me/bookings', 'get');
    expect(parameterNames(mine)).toEqual(['query:cursor', 'query:limit', 'query:status']);
    expect(responseBodySchema(mine, '200').required).toEqual(['items', 'nextCursor']);
    const availability = responseBodySchema(
      documentedOperation(doc, '/v1/events/{eventId}/availability', 'get'),
      '200',
    );
    expect(availability.required).toEqual(['totalSlots', 'availableSlots', 'waitlistLength']);
  });

  it('declares the Location of every 201, on the routes that create', () => {
    const created = [...operationsOf(doc)].filter(
      ([, , operation]) => operation.responses?.['201'],
    );
    expect(created.map(([path, method]) => `${method.toUpperCase()} ${path}`).sort()).toEqual([
      'POST /v1/events/{eventId}/bookings',
    ]);
    for (const [, , operation] of created) {
      expect(operation.responses?.['201']).toMatchObject({
        headers: { Location: expect.any(Object) },
      });
    }
  });
});
