import { assertOpenApiMatchesRoutes, type OpenApiDocument } from '@happening/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booking, startBooking } from './harness.ts';

interface Schema {
  type?: unknown;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  [keyword: string]: unknown;
}
type Content = Record<string, { schema: Schema }>;
interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Content };
  responses: Record<string, { content?: Content; $ref?: string }>;
}

let booking: Booking;
let doc: OpenApiDocument;
beforeAll(async () => {
  booking = await startBooking();
  const res = await booking.app.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json<OpenApiDocument>();
});
afterAll(async () => {
  await booking?.stop();
});

function operation(path: string, method: 'get' | 'post'): Operation {
  const found = doc.paths?.[path]?.[method];
  if (!found) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return found as unknown as Operation;
}

const parameterNames = (op: Operation) =>
  (op.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
const bodySchema = (op: Operation) => op.requestBody!.content['application/json']!.schema;
const responseSchema = (op: Operation, status: string) =>
  op.responses[status]!.content!['application/json']!.schema;

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
    const book = operation('/v1/events/{eventId}/bookings', 'post');
    expect(parameterNames(book)).toEqual(['header:idempotency-key', 'path:eventId']);
    const body = bodySchema(book);
    expect(body.required).toEqual(['seats']);
    expect(Object.keys(body.properties ?? {}).sort()).toEqual(['seatNumbers', 'seats']);
    const created = responseSchema(book, '201');
    expect(created.required).toEqual(
      expect.arrayContaining(['id', 'status', 'seatNumbers', 'waitlistPosition', 'version']),
    );
    expect(created.properties?.status).toMatchObject({
      enum: ['confirmed', 'waiting', 'cancelled'],
    });
  });

  it('describes the caller’s bookings as a page and availability figures', () => {
    const mine = operation('/v1/me/bookings', 'get');
    expect(parameterNames(mine)).toEqual(['query:cursor', 'query:limit', 'query:status']);
    expect(responseSchema(mine, '200').required).toEqual(['items', 'nextCursor']);
    const availability = responseSchema(
      operation('/v1/events/{eventId}/availability', 'get'),
      '200',
    );
    expect(availability.required).toEqual(['totalSlots', 'availableSlots', 'waitlistLength']);
  });
});
