import { describe, expect, it } from 'vitest';
import type { CatalogEvent } from './event.model.ts';
import { toRepresentation } from './event.representation.ts';

const at = (iso: string) => new Date(iso);
const event: CatalogEvent = {
  id: '11111111-1111-4111-8111-111111111111',
  orgId: '22222222-2222-4222-8222-222222222222',
  name: 'Jazz night',
  description: '',
  category: 'concert',
  startsAt: at('2030-01-01T10:00:00Z'),
  endsAt: at('2030-01-01T12:00:00Z'),
  timezone: 'Europe/Paris',
  venue: '',
  totalSlots: 50,
  status: 'upcoming',
  visibility: 'public',
  waitlistPolicy: 'fifo',
  maxSeatsPerBooking: 10,
  publishedAt: at('2029-12-01T00:00:00Z'),
  createdBy: 'u1',
  version: 2,
  createdAt: at('2029-12-01T00:00:00Z'),
  updatedAt: at('2029-12-01T00:00:00Z'),
};
const figures = { totalSlots: 50, availableSlots: 0, confirmedSeats: 50, waitlistLength: 4 };

describe('toRepresentation', () => {
  it('shows the stored status while nothing is due', () => {
    expect(toRepresentation(event, figures, at('2030-01-01T09:00:00Z'))).toMatchObject({
      status: 'upcoming',
      availableSlots: 0,
      waitlistLength: 4,
      version: 2,
    });
  });

  it('shows the status the clock implies before the lifecycle job moved the event', () => {
    expect(toRepresentation(event, figures, at('2030-01-01T10:00:00Z'))).toMatchObject({
      status: 'ongoing',
      waitlistLength: 4,
    });
    // Ended: completed, selling nothing and with its waitlist closed, at the stored version.
    expect(toRepresentation(event, figures, at('2030-01-01T12:00:00Z'))).toMatchObject({
      status: 'completed',
      availableSlots: 0,
      waitlistLength: 0,
      version: 2,
    });
  });

  it('leaves drafts and cancelled events as stored, whatever the time', () => {
    const late = at('2031-01-01T00:00:00Z');
    expect(
      toRepresentation({ ...event, status: 'draft', publishedAt: null }, undefined, late),
    ).toMatchObject({ status: 'draft', availableSlots: 50 });
    expect(toRepresentation({ ...event, status: 'cancelled' }, figures, late)).toMatchObject({
      status: 'cancelled',
      availableSlots: 0,
      waitlistLength: 0,
    });
  });
});
