import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildEvent,
  ContractError,
  currentVersion,
  EVENT_TYPES,
  eventRegistry,
  parseEvent,
} from './index.ts';

const orgId = randomUUID();
const eventId = randomUUID();
const meta = {
  source: 'booking' as const,
  orgId,
  aggregate: { type: 'booking', id: randomUUID(), version: 1 },
  correlationId: 'req-1',
};
const confirmed = {
  bookingId: meta.aggregate.id,
  eventId,
  orgId,
  userId: randomUUID(),
  seats: 2,
  seatNumbers: [1, 2],
  eventName: 'Launch party',
  eventStartsAt: '2027-01-01T18:00:00.000Z',
};

function expectContractError(fn: () => unknown, code: string, pathFragment?: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ContractError);
    expect((error as ContractError).code).toBe(code);
    if (pathFragment) {
      expect((error as ContractError).issues.map((i) => i.path).join(' ')).toContain(pathFragment);
    }
    return;
  }
  throw new Error('expected a ContractError');
}

describe('buildEvent / parseEvent', () => {
  it('round-trips an event through JSON', () => {
    const envelope = buildEvent('booking.booking_confirmed', confirmed, meta);
    expect(envelope.version).toBe(1);
    expect(envelope.type).toBe('booking.booking_confirmed');
    const parsed = parseEvent(JSON.stringify(envelope));
    expect(parsed).toEqual(envelope);
    if (parsed.type === 'booking.booking_confirmed')
      expect(parsed.data.seatNumbers).toEqual([1, 2]);
  });

  it('parses from a Buffer as delivered by the broker', () => {
    const envelope = buildEvent('booking.booking_confirmed', confirmed, meta);
    expect(parseEvent(Buffer.from(JSON.stringify(envelope))).id).toBe(envelope.id);
  });

  it('refuses to build an event with invalid data, naming the field', () => {
    expectContractError(
      () => buildEvent('booking.booking_confirmed', { ...confirmed, seats: 0 }, meta),
      'INVALID_EVENT_DATA',
      'seats',
    );
  });

  it('rejects an unknown type', () => {
    const envelope = {
      ...buildEvent('booking.booking_confirmed', confirmed, meta),
      type: 'booking.exploded',
    };
    expectContractError(() => parseEvent(envelope), 'UNKNOWN_EVENT_TYPE');
  });

  it('rejects an unknown version', () => {
    const envelope = { ...buildEvent('booking.booking_confirmed', confirmed, meta), version: 7 };
    expectContractError(() => parseEvent(envelope), 'UNKNOWN_EVENT_VERSION');
  });

  it('rejects malformed data with the path inside data', () => {
    const envelope = buildEvent('booking.booking_confirmed', confirmed, meta);
    const broken = { ...envelope, data: { ...envelope.data, seatNumbers: ['x'] } };
    expectContractError(() => parseEvent(broken), 'INVALID_EVENT_DATA', 'data.seatNumbers.0');
  });

  it('rejects a malformed envelope', () => {
    const envelope = buildEvent('booking.booking_confirmed', confirmed, meta);
    expectContractError(
      () => parseEvent({ ...envelope, id: 'not-a-uuid' }),
      'INVALID_ENVELOPE',
      'id',
    );
    expectContractError(() => parseEvent('{not json'), 'INVALID_ENVELOPE');
    expectContractError(
      () => parseEvent({ ...envelope, aggregate: undefined }),
      'INVALID_ENVELOPE',
      'aggregate',
    );
  });

  it('covers every event named in the architecture', () => {
    expect(EVENT_TYPES).toEqual([
      'identity.user_registered',
      'identity.organization_created',
      'identity.member_invited',
      'identity.member_joined',
      'identity.member_role_changed',
      'identity.member_removed',
      'catalog.event_created',
      'catalog.event_published',
      'catalog.event_updated',
      'catalog.event_capacity_changed',
      'catalog.event_status_changed',
      'catalog.event_cancelled',
      'booking.booking_confirmed',
      'booking.booking_waitlisted',
      'booking.booking_cancelled',
      'booking.waitlist_promoted',
      'booking.availability_changed',
      'notification.notification_sent',
      'notification.notification_failed',
    ]);
  });

  it('writes every type at its newest registered version', () => {
    for (const type of EVENT_TYPES) {
      const newest = Math.max(...Object.keys(eventRegistry[type]).map(Number));
      expect({ type, version: currentVersion(type) }).toEqual({ type, version: newest });
    }
  });
});
