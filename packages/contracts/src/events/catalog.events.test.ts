import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEvent, ContractError } from '../index.ts';

const snapshot = {
  eventId: randomUUID(),
  orgId: randomUUID(),
  name: 'Hack night',
  description: '',
  category: 'hackathon' as const,
  startsAt: '2027-03-01T18:00:00.000Z',
  endsAt: '2027-03-01T23:00:00.000Z',
  timezone: 'Europe/Berlin',
  venue: 'Hall 1',
  totalSlots: 100,
  status: 'upcoming' as const,
  visibility: 'public' as const,
  waitlistPolicy: 'fifo' as const,
  maxSeatsPerBooking: 4,
  version: 2,
};
const meta = {
  source: 'catalog' as const,
  aggregate: { type: 'event', id: snapshot.eventId, version: 2 },
  correlationId: 'c',
};

describe('catalog payloads', () => {
  it('accept a published event with everything booking needs', () => {
    const event = buildEvent(
      'catalog.event_published',
      { ...snapshot, publishedAt: '2027-01-01T00:00:00.000Z' },
      meta,
    );
    expect(event.data.waitlistPolicy).toBe('fifo');
  });

  it('reject an unknown category and capacity out of range', () => {
    expect(() =>
      buildEvent('catalog.event_created', { ...snapshot, category: 'rave' as never }, meta),
    ).toThrow(ContractError);
    expect(() =>
      buildEvent('catalog.event_created', { ...snapshot, totalSlots: 100_001 }, meta),
    ).toThrow(/totalSlots/);
  });
});
