import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventChange, eventSnapshot } from '../../../test/events.fixture.ts';
import {
  changesStillCurrent,
  detailsSinceBooked,
  type EventVersion,
  newestOf,
  versionsToldBy,
} from './event-version.policy.ts';

const first = { ...eventSnapshot(randomUUID(), randomUUID()), version: 1 };
const v2 = eventChange(first, { startsAt: '2026-03-10T19:00:00.000Z', venue: 'Hall C' });
const v3 = eventChange(v2.after, { startsAt: '2026-03-10T20:00:00.000Z' });
const known: EventVersion[] = [
  { version: 3, details: v3.after },
  { version: 1, details: first },
  { version: 2, details: v2.after },
];
const booked = (details: { name: string; startsAt: string }) => ({
  name: details.name,
  startsAt: details.startsAt,
});

describe('versionsToldBy', () => {
  it('tells the update’s own version and the one before, with the old values', () => {
    const told = versionsToldBy(v2.update);
    expect(told.own).toEqual({ version: 2, details: v2.after });
    expect(told.before).toEqual({ version: 1, details: first });
  });

  it('tells no version before the first', () => {
    const update = { ...v2.update, aggregate: { ...v2.update.aggregate, version: 1 } };
    expect(versionsToldBy(update).before).toBeUndefined();
  });
});

describe('newestOf', () => {
  it('picks the highest version, whatever the order', () => {
    expect(newestOf(known)?.version).toBe(3);
    expect(newestOf([])).toBeUndefined();
  });
});

describe('detailsSinceBooked', () => {
  it('compares every field a holder must hear of when the booking names its version', () => {
    expect(detailsSinceBooked({ ...booked(first), version: 1 }, known)).toEqual({
      newest: v3.after,
      changes: {
        startsAt: { from: first.startsAt, to: v3.after.startsAt },
        venue: { from: first.venue, to: 'Hall C' },
      },
    });
  });

  it('adds nothing for a booking on the newest version, or on one newer than any known here', () => {
    expect(detailsSinceBooked({ ...booked(v3.after), version: 3 }, known)).toBeUndefined();
    expect(detailsSinceBooked({ ...booked(v3.after), version: 5 }, known)).toBeUndefined();
  });

  it('compares the name and start it carries when its version is not known here', () => {
    const older = { ...booked(first), startsAt: '2026-03-10T17:00:00.000Z', version: 0 };
    expect(detailsSinceBooked(older, known)?.changes).toEqual({
      startsAt: { from: older.startsAt, to: v3.after.startsAt },
      venue: { from: first.venue, to: 'Hall C' },
    });
  });

  it('compares the rest with the earliest version known after its own when that is not known', () => {
    // Published at 2, a capacity raise at 3 (no update), the venue changed at 4: 4 and 3 known.
    const published = { ...first, version: 2 };
    const moved = eventChange({ ...published, totalSlots: 80, version: 3 }, { venue: 'Hall D' });
    const told = versionsToldBy(moved.update);
    const fromUpdates = [told.own, ...(told.before ? [told.before] : [])];
    expect(detailsSinceBooked({ ...booked(published), version: 2 }, fromUpdates)).toEqual({
      newest: moved.after,
      changes: { venue: { from: first.venue, to: 'Hall D' } },
    });
    const laterUpdate = eventChange(moved.after, { endsAt: '2026-03-10T23:00:00.000Z' });
    const laterTold = versionsToldBy(laterUpdate.update);
    expect(
      detailsSinceBooked({ ...booked(published), version: 1 }, [laterTold.own, ...fromUpdates])
        ?.changes,
    ).toEqual({
      venue: { from: first.venue, to: 'Hall D' },
      endsAt: { from: first.endsAt, to: '2026-03-10T23:00:00.000Z' },
    });
  });

  it('gives the newest details and what differs for a booking decided on an older version', () => {
    expect(detailsSinceBooked(booked(first), known)).toEqual({
      newest: v3.after,
      changes: { startsAt: { from: first.startsAt, to: v3.after.startsAt } },
    });
    const renamed = eventChange(v3.after, { name: 'Rust Night' });
    expect(
      detailsSinceBooked(booked(v2.after), [...known, { version: 4, details: renamed.after }])
        ?.changes,
    ).toEqual({
      name: { from: 'Rust Meetup', to: 'Rust Night' },
      startsAt: { from: v2.after.startsAt, to: v3.after.startsAt },
    });
  });

  it('leaves a booking on the newest details as it is, times compared as instants', () => {
    expect(detailsSinceBooked(booked(v3.after), known)).toBeUndefined();
    expect(
      detailsSinceBooked({ name: v3.after.name, startsAt: '2026-03-10T21:00:00+01:00' }, known),
    ).toBeUndefined();
  });

  it('leaves a booking on details of no known version (a newer one) or of an event not known', () => {
    expect(
      detailsSinceBooked({ name: first.name, startsAt: '2026-03-10T21:00:00.000Z' }, known),
    ).toBeUndefined();
    expect(detailsSinceBooked(booked(first), [])).toBeUndefined();
  });
});

describe('changesStillCurrent', () => {
  it('keeps the changes a newer version left as the update said', () => {
    expect(changesStillCurrent(v2.update.data.changes, v3.after)).toEqual({
      venue: { from: first.venue, to: 'Hall C' },
    });
    expect(changesStillCurrent(v3.update.data.changes, v3.after)).toEqual(v3.update.data.changes);
    expect(changesStillCurrent(v3.update.data.changes, first)).toEqual({});
  });
});
