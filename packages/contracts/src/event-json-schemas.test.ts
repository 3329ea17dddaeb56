import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS_FILE, eventSchemasText } from '../scripts/write-event-schemas.ts';
import { eventJsonSchemas, JSON_SCHEMA_FORMATS } from './event-json-schemas.ts';
import { buildEvent, EVENT_TYPES, eventRegistry, ownerOf, SOURCES } from './index.ts';

const schemas = eventJsonSchemas();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validatorOf = (key: string) => ajv.compile(schemas[key] as object);

// One sent message of each kind, as it crosses the broker (JSON, then parsed back).
const onTheWire = (event: unknown) => JSON.parse(JSON.stringify(event));

/** One event of two kinds, as the services publish them. */
/** The samples of `sampleEvents`, each with the key of the schema it is checked against. */
function sampleEventsByKey() {
  const { registered, confirmed } = sampleEvents();
  return [
    ['identity.user_registered@1', registered],
    ['booking.booking_confirmed@1', confirmed],
  ] as const;
}

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

  it('is checked again by a cached `turbo run test` when the doc or its writer changes', () => {
    // turbo replays a cached test run unless one of the task's inputs changed: the freshness check
    // above reads the doc, outside the package, and the writer script, outside src/.
    const packageDir = fileURLToPath(new URL('..', import.meta.url));
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const dryRun = execFileSync(
      `${root}node_modules/.bin/turbo`,
      ['run', 'test', '--filter', '@happening/contracts', '--dry=json'],
      { cwd: root, encoding: 'utf8' },
    );
    const task = (
      JSON.parse(dryRun) as { tasks: { taskId: string; inputs: Record<string, string> }[] }
    ).tasks.find(({ taskId }) => taskId === '@happening/contracts#test');
    expect(Object.keys(task?.inputs ?? {})).toEqual(
      expect.arrayContaining([
        relative(packageDir, EVENT_SCHEMAS_FILE),
        'scripts/write-event-schemas.ts',
        'src/event-json-schemas.ts',
      ]),
    );
  });

  it('accepts events as the services publish them, and refuses a broken payload', () => {
    const { confirmed } = sampleEvents();
    for (const [key, event] of sampleEventsByKey()) {
      const validate = validatorOf(key);
      expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    }
    const validate = validatorOf('booking.booking_confirmed@1');
    expect(validate({ ...confirmed, data: { ...confirmed.data, seats: 0 } })).toBe(false);
    expect(validate({ ...confirmed, type: 'booking.booking_cancelled' })).toBe(false);
  });

  it('compiles, every one, in a validator with default strictness (ajv + ajv-formats, no options)', () => {
    // What an integrator writes first: an unknown format (`base64` is none of JSON Schema's) or an
    // unknown keyword makes the compile throw, for that schema or all of them.
    const strict = new Ajv2020();
    addFormats.default(strict);
    for (const [key, schema] of Object.entries(schemas)) {
      expect(() => strict.compile(schema as object), key).not.toThrow();
    }
  });

  it('says only the formats JSON Schema defines, and keeps base64 as its encoding and pattern', () => {
    const formats = new Set<string>();
    JSON.stringify(schemas, (name, value) => {
      if (name === 'format' && typeof value === 'string') formats.add(value);
      return value;
    });
    expect([...formats].filter((format) => !JSON_SCHEMA_FORMATS.has(format))).toEqual([]);
    type Properties = { properties: Record<string, Properties> };
    const invited = schemas['identity.member_invited@2'] as Properties;
    expect(invited.properties.data?.properties.sealedAcceptUrl).toEqual({
      type: 'string',
      minLength: 1,
      contentEncoding: 'base64',
      pattern: expect.any(String),
    });
    const validate = validatorOf('identity.member_invited@2');
    const sealed = (sealedAcceptUrl: string) => ({
      id: randomUUID(),
      type: 'identity.member_invited',
      version: 2,
      occurredAt: '2027-01-01T18:00:00.000Z',
      source: 'identity-org',
      aggregate: { type: 'invite', id: 'i-1', version: 1 },
      correlationId: 'req-3',
      data: {
        inviteId: randomUUID(),
        organizationId: randomUUID(),
        organizationName: 'Org',
        email: 'a@example.com',
        role: 'user',
        invitedBy: 'u-1',
        expiresAt: '2027-01-08T18:00:00.000Z',
        sealedAcceptUrl,
      },
    });
    expect(validate(sealed('c2VhbGVk')), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(sealed('not base64!'))).toBe(false);
  });

  it("names each type's owning service as its only source, and the type as its only type", () => {
    for (const [key, schema] of Object.entries(schemas)) {
      const type = key.slice(0, key.indexOf('@')) as (typeof EVENT_TYPES)[number];
      const { properties } = schema as { properties: Record<string, Record<string, unknown>> };
      expect(properties.source, key).toMatchObject({ const: ownerOf(type) });
      expect(properties.type, key).toMatchObject({ const: type });
    }
  });

  it("refuses an event whose source is not its type's owner", () => {
    for (const [key, event] of sampleEventsByKey()) {
      const validate = validatorOf(key);
      for (const source of SOURCES.filter((s) => s !== event.source)) {
        expect(validate({ ...event, source }), `${key} from ${source}`).toBe(false);
      }
    }
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
