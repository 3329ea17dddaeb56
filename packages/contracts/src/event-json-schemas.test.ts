import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS_FILE, eventSchemasText } from '../scripts/write-event-schemas.ts';
import { eventJsonSchemas } from './event-json-schemas.ts';
import { buildEvent, EVENT_TYPES, eventRegistry } from './index.ts';

const schemas = eventJsonSchemas();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validatorOf = (key: string) => ajv.compile(schemas[key] as object);

// One sent message of each kind, as it crosses the broker (JSON, then parsed back).
const onTheWire = (event: unknown) => JSON.parse(JSON.stringify(event));

/** One event of two kinds, as the services publish them. */
function sampleEvents() {
  const orgId = randomUUID();
  const userId = randomUUID();
  const registered = onTheWire(
    buildEvent(
      'identity.user_registered',
      { userId, email: 'a#b@example.com', name: 'Ada', emailVerified: true },
      {
        source: 'identity-org',
        aggregate: { type: 'user', id: userId, version: 1 },
        correlationId: 'req-1',
      },
    ),
  );
  const bookingId = randomUUID();
  const confirmed = onTheWire(
    buildEvent(
      'booking.booking_confirmed',
      {
        bookingId,
        eventId: randomUUID(),
        orgId,
        userId,
        seats: 2,
        seatNumbers: [1, 2],
        eventName: 'Launch party',
        eventStartsAt: '2027-01-01T18:00:00.000Z',
        eventVersion: 3,
      },
      {
        source: 'booking',
        orgId,
        aggregate: { type: 'booking', id: bookingId, version: 1 },
        correlationId: 'req-2',
      },
    ),
  );
  return { registered, confirmed };
}

describe('the published events’ JSON Schemas', () => {
  it('has one schema per type and registered version', () => {
    const expected = EVENT_TYPES.flatMap((type) =>
      Object.keys(eventRegistry[type]).map((version) => `${type}@${version}`),
    );
    expect(Object.keys(schemas).sort()).toEqual(expected.sort());
  });

  it('is what docs/events.schema.json holds (`pnpm --filter @happening/contracts schemas` rewrites it)', () => {
    expect(readFileSync(EVENT_SCHEMAS_FILE, 'utf8')).toBe(eventSchemasText());
  });

  it('accepts events as the services publish them, and refuses a broken payload', () => {
    const { registered, confirmed } = sampleEvents();
    for (const [key, event] of [
      ['identity.user_registered@1', registered],
      ['booking.booking_confirmed@1', confirmed],
    ] as const) {
      const validate = validatorOf(key);
      expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    }
    const validate = validatorOf('booking.booking_confirmed@1');
    expect(validate({ ...confirmed, data: { ...confirmed.data, seats: 0 } })).toBe(false);
    expect(validate({ ...confirmed, type: 'booking.booking_cancelled' })).toBe(false);
  });

  it('reads the same to a validator that does not compile its patterns as Unicode', () => {
    // Python's jsonschema, and ajv with unicodeRegExp off, take a pattern without the `u` flag.
    const plain = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats.default(plain);
    const { registered } = sampleEvents();
    const validate = plain.compile(schemas['identity.user_registered@1'] as object);
    expect(validate(registered), JSON.stringify(validate.errors)).toBe(true);
    const controlled = { ...registered.data, email: 'ada\u0085@example.com' };
    expect(validate({ ...registered, data: controlled })).toBe(false);
  });
});
