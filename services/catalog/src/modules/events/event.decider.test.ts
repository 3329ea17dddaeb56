import { describe, expect, it } from 'vitest';
import {
  changedAt,
  decideCancel,
  decideCreate,
  decidePatch,
  decidePublish,
} from './event.decider.ts';
import type { CatalogEvent, EventDraftInput } from './event.model.ts';

const now = new Date('2030-01-01T00:00:00.000Z');
const input: EventDraftInput = {
  name: 'Jazz night',
  description: 'Live jazz',
  category: 'concert',
  startsAt: new Date('2030-02-01T19:00:00.000Z'),
  endsAt: new Date('2030-02-01T23:00:00.000Z'),
  timezone: 'Europe/Paris',
  venue: 'Blue Room',
  totalSlots: 100,
  visibility: 'public',
  waitlistPolicy: 'fifo',
  maxSeatsPerBooking: 10,
};
const hoursFromNow = (hours: number) => new Date(now.getTime() + hours * 3_600_000);
const ctx = { id: '11111111-1111-4111-8111-111111111111', orgId: 'org', createdBy: 'u1', now };

function draft(): CatalogEvent {
  const decision = decideCreate(input, ctx);
  if (!decision.ok) throw new Error('expected a draft');
  return decision.value;
}
const withStatus = (status: CatalogEvent['status']): CatalogEvent => ({
  ...draft(),
  status,
  publishedAt: status === 'draft' ? null : now,
});

describe('decideCreate', () => {
  it('creates a draft at version 1', () => {
    expect(draft()).toMatchObject({
      status: 'draft',
      version: 1,
      publishedAt: null,
      createdBy: 'u1',
    });
  });

  it('refuses an event that ends before it starts, naming the field', () => {
    const decision = decideCreate({ ...input, endsAt: input.startsAt }, ctx);
    expect(decision).toMatchObject({
      ok: false,
      refusal: { status: 400, errors: [{ path: 'body.endsAt' }] },
    });
  });
});

describe('decideCreate: seats per booking', () => {
  const { maxSeatsPerBooking: _omitted, ...withoutLimit } = input;
  const created = (overrides: Partial<EventDraftInput>) =>
    decideCreate({ ...withoutLimit, ...overrides }, ctx);

  it('defaults to 10, or to totalSlots when the event has fewer seats', () => {
    expect(created({ totalSlots: 100 })).toMatchObject({
      ok: true,
      value: { maxSeatsPerBooking: 10 },
    });
    expect(created({ totalSlots: 4 })).toMatchObject({
      ok: true,
      value: { maxSeatsPerBooking: 4 },
    });
  });

  it('refuses more seats per booking than the event has, naming the field', () => {
    expect(created({ totalSlots: 4, maxSeatsPerBooking: 5 })).toMatchObject({
      ok: false,
      refusal: {
        code: 'VALIDATION_FAILED',
        status: 400,
        errors: [{ path: 'body.maxSeatsPerBooking' }],
      },
    });
    expect(created({ totalSlots: 4, maxSeatsPerBooking: 4 }).ok).toBe(true);
  });
});

describe('decidePublish', () => {
  it('moves a draft to upcoming with the publication time and a new version', () => {
    const decision = decidePublish(draft(), now);
    expect(decision).toMatchObject({
      ok: true,
      value: { status: 'upcoming', publishedAt: now, version: 2 },
    });
  });

  it('caps the seats per booking of a draft stored with more than its slots', () => {
    const stored = { ...draft(), totalSlots: 4, maxSeatsPerBooking: 10 };
    expect(decidePublish(stored, now)).toMatchObject({
      ok: true,
      value: { status: 'upcoming', totalSlots: 4, maxSeatsPerBooking: 4, version: 2 },
    });
    expect(decidePublish(draft(), now)).toMatchObject({
      ok: true,
      value: { maxSeatsPerBooking: 10 },
    });
  });

  it('refuses when the start time is not in the future', () => {
    const decision = decidePublish(draft(), input.startsAt);
    expect(decision).toMatchObject({
      ok: false,
      refusal: { code: 'EVENT_START_IN_PAST', status: 422 },
    });
  });

  it.each([
    'upcoming',
    'ongoing',
    'completed',
    'cancelled',
  ] as const)('refuses to publish a %s event', (status) => {
    expect(decidePublish(withStatus(status), now)).toMatchObject({
      ok: false,
      refusal: { code: 'ILLEGAL_TRANSITION', status: 422 },
    });
  });
});

describe('decideCancel', () => {
  it.each(['draft', 'upcoming', 'ongoing'] as const)('cancels a %s event', (status) => {
    expect(decideCancel(withStatus(status), now)).toMatchObject({
      ok: true,
      value: { status: 'cancelled', version: 2 },
    });
  });

  it.each(['completed', 'cancelled'] as const)('refuses to cancel a %s event', (status) => {
    expect(decideCancel(withStatus(status), now)).toMatchObject({
      ok: false,
      refusal: { code: 'ILLEGAL_TRANSITION', status: 422 },
    });
  });

  it('refuses to cancel an event whose end passed before the clock completed it', () => {
    for (const status of ['upcoming', 'ongoing'] as const) {
      const ended = { ...withStatus(status), startsAt: hoursFromNow(-3), endsAt: now };
      expect(decideCancel(ended, now)).toMatchObject({
        ok: false,
        refusal: {
          code: 'ILLEGAL_TRANSITION',
          status: 422,
          detail: expect.stringContaining('completed'),
        },
      });
    }
    const started = {
      ...withStatus('upcoming'),
      startsAt: hoursFromNow(-1),
      endsAt: hoursFromNow(1),
    };
    expect(decideCancel(started, now).ok).toBe(true);
  });
});

describe('decidePatch', () => {
  const seats = { confirmedSeats: 0, now };

  it('reports only the fields that really change, with ISO times', () => {
    const startsAt = new Date('2030-02-01T20:00:00.000Z');
    const decision = decidePatch(
      draft(),
      { name: 'Jazz night', venue: 'Red Room', startsAt },
      seats,
    );
    expect(decision).toEqual({
      ok: true,
      value: {
        event: expect.objectContaining({ venue: 'Red Room', startsAt, version: 2, updatedAt: now }),
        changes: {
          venue: { from: 'Blue Room', to: 'Red Room' },
          startsAt: { from: '2030-02-01T19:00:00.000Z', to: '2030-02-01T20:00:00.000Z' },
        },
      },
    });
  });

  it('keeps the version when nothing changes', () => {
    const event = draft();
    const decision = decidePatch(
      event,
      { name: event.name, startsAt: new Date(event.startsAt) },
      seats,
    );
    expect(decision).toEqual({ ok: true, value: { event, changes: {} } });
  });

  it('reports a capacity change apart from the other changes', () => {
    const decision = decidePatch(draft(), { totalSlots: 150, venue: 'Hall' }, seats);
    expect(decision).toMatchObject({
      ok: true,
      value: {
        event: { totalSlots: 150, version: 2 },
        changes: { venue: { from: 'Blue Room', to: 'Hall' } },
        capacity: { previousTotalSlots: 100, totalSlots: 150 },
      },
    });
    if (decision.ok) expect(decision.value.changes).not.toHaveProperty('totalSlots');
  });

  it('refuses capacity below the confirmed seats, but allows exactly that many', () => {
    const event = withStatus('upcoming');
    expect(decidePatch(event, { totalSlots: 39 }, { confirmedSeats: 40, now })).toMatchObject({
      ok: false,
      refusal: { code: 'CAPACITY_BELOW_CONFIRMED', status: 409 },
    });
    expect(decidePatch(event, { totalSlots: 40 }, { confirmedSeats: 40, now }).ok).toBe(true);
  });

  it('allows any raise, even one that leaves the capacity below the confirmed seats', () => {
    const oversubscribed = { ...withStatus('upcoming'), totalSlots: 50 };
    const raise = decidePatch(oversubscribed, { totalSlots: 55 }, { confirmedSeats: 60, now });
    expect(raise).toMatchObject({
      ok: true,
      value: { capacity: { previousTotalSlots: 50, totalSlots: 55 } },
    });
    expect(
      decidePatch(oversubscribed, { totalSlots: 49 }, { confirmedSeats: 60, now }),
    ).toMatchObject({ ok: false, refusal: { code: 'CAPACITY_BELOW_CONFIRMED' } });
  });

  it('does not apply the capacity rule when the capacity stays', () => {
    const event = withStatus('upcoming');
    expect(decidePatch(event, { venue: 'Hall' }, { confirmedSeats: 500, now }).ok).toBe(true);
  });

  it('checks the time order of the merged event', () => {
    const decision = decidePatch(draft(), { endsAt: new Date('2030-02-01T18:00:00.000Z') }, seats);
    expect(decision).toMatchObject({ ok: false, refusal: { status: 400 } });
  });

  it('refuses a merged event with more seats per booking than slots', () => {
    const event = withStatus('upcoming');
    const refused = {
      ok: false,
      refusal: { status: 400, errors: [{ path: 'body.maxSeatsPerBooking' }] },
    };
    expect(decidePatch(event, { totalSlots: 9 }, seats)).toMatchObject(refused);
    expect(decidePatch(event, { totalSlots: 40, maxSeatsPerBooking: 50 }, seats)).toMatchObject(
      refused,
    );
    expect(decidePatch(event, { totalSlots: 9, maxSeatsPerBooking: 9 }, seats).ok).toBe(true);
  });

  it('lets other fields of an event stored with more seats per booking than slots change', () => {
    const event = { ...withStatus('upcoming'), totalSlots: 5, maxSeatsPerBooking: 10 };
    expect(decidePatch(event, { venue: 'Hall' }, seats).ok).toBe(true);
    expect(decidePatch(event, { maxSeatsPerBooking: 6 }, seats).ok).toBe(false);
  });

  describe('times of a published event', () => {
    const ongoing = {
      ...withStatus('ongoing'),
      startsAt: hoursFromNow(-1),
      endsAt: hoursFromNow(2),
    };

    it('refuses to move an upcoming event to a start that is not in the future', () => {
      for (const startsAt of [now, hoursFromNow(-1)]) {
        expect(decidePatch(withStatus('upcoming'), { startsAt }, seats)).toMatchObject({
          ok: false,
          refusal: {
            code: 'EVENT_START_IN_PAST',
            status: 422,
            errors: [{ path: 'body.startsAt' }],
          },
        });
      }
      expect(decidePatch(withStatus('upcoming'), { startsAt: hoursFromNow(1) }, seats).ok).toBe(
        true,
      );
    });

    it('leaves a draft free to take any start: it is checked at publish', () => {
      expect(decidePatch(draft(), { startsAt: hoursFromNow(-1) }, seats).ok).toBe(true);
    });

    it('lets an upcoming event whose start passed before the clock moved it change other fields', () => {
      const due = { ...withStatus('upcoming'), startsAt: hoursFromNow(-1) };
      expect(decidePatch(due, { venue: 'Hall', startsAt: due.startsAt }, seats).ok).toBe(true);
    });

    it('refuses to change the start of an ongoing event', () => {
      for (const startsAt of [hoursFromNow(-2), hoursFromNow(1)]) {
        expect(decidePatch(ongoing, { startsAt }, seats)).toMatchObject({
          ok: false,
          refusal: {
            code: 'EVENT_ALREADY_STARTED',
            status: 422,
            errors: [{ path: 'body.startsAt' }],
          },
        });
      }
      expect(
        decidePatch(ongoing, { startsAt: new Date(ongoing.startsAt), venue: 'Hall' }, seats).ok,
      ).toBe(true);
    });

    it('judges an upcoming event whose start passed as ongoing, before the clock moves it', () => {
      const started = {
        ...withStatus('upcoming'),
        startsAt: hoursFromNow(-1),
        endsAt: hoursFromNow(2),
      };
      expect(decidePatch(started, { endsAt: hoursFromNow(-0.5) }, seats)).toMatchObject({
        ok: false,
        refusal: { code: 'EVENT_END_IN_PAST', status: 422, errors: [{ path: 'body.endsAt' }] },
      });
      expect(decidePatch(started, { startsAt: hoursFromNow(1) }, seats)).toMatchObject({
        ok: false,
        refusal: { code: 'EVENT_ALREADY_STARTED', errors: [{ path: 'body.startsAt' }] },
      });
      expect(decidePatch(started, { endsAt: hoursFromNow(3) }, seats).ok).toBe(true);
    });

    it('refuses to edit an event whose end passed, whatever its stored status', () => {
      for (const status of ['upcoming', 'ongoing'] as const) {
        const ended = {
          ...withStatus(status),
          startsAt: hoursFromNow(-3),
          endsAt: hoursFromNow(-1),
        };
        expect(decidePatch(ended, { endsAt: hoursFromNow(5) }, seats)).toMatchObject({
          ok: false,
          refusal: { code: 'EVENT_NOT_EDITABLE', status: 422 },
        });
      }
    });

    it('refuses to end an ongoing event at a time that is not in the future', () => {
      for (const endsAt of [now, hoursFromNow(-0.5)]) {
        expect(decidePatch(ongoing, { endsAt }, seats)).toMatchObject({
          ok: false,
          refusal: { code: 'EVENT_END_IN_PAST', status: 422, errors: [{ path: 'body.endsAt' }] },
        });
      }
      expect(decidePatch(ongoing, { endsAt: hoursFromNow(3) }, seats).ok).toBe(true);
    });
  });

  describe('terms of a published event', () => {
    it.each([
      'upcoming',
      'ongoing',
    ] as const)('refuses to narrow a %s event to members', (status) => {
      const event = { ...withStatus(status), startsAt: hoursFromNow(-1), endsAt: hoursFromNow(2) };
      expect(decidePatch(event, { visibility: 'members' }, seats)).toMatchObject({
        ok: false,
        refusal: {
          code: 'EVENT_VISIBILITY_NARROWED',
          status: 422,
          errors: [{ path: 'body.visibility' }],
        },
      });
    });

    it('lets a published members-only event widen to public', () => {
      const event = { ...withStatus('upcoming'), visibility: 'members' as const };
      expect(decidePatch(event, { visibility: 'public' }, seats)).toMatchObject({
        ok: true,
        value: { changes: { visibility: { from: 'members', to: 'public' } } },
      });
      expect(decidePatch(event, { visibility: 'members', venue: 'Hall' }, seats).ok).toBe(true);
    });

    it('refuses a new waitlist policy, but not the same one', () => {
      const event = withStatus('upcoming');
      expect(decidePatch(event, { waitlistPolicy: 'first_fit' }, seats)).toMatchObject({
        ok: false,
        refusal: {
          code: 'EVENT_WAITLIST_POLICY_LOCKED',
          status: 422,
          errors: [{ path: 'body.waitlistPolicy' }],
        },
      });
      expect(decidePatch(event, { waitlistPolicy: 'fifo' }, seats).ok).toBe(true);
    });

    it('leaves a draft free to change both', () => {
      const changed = decidePatch(
        draft(),
        { visibility: 'members', waitlistPolicy: 'first_fit' },
        seats,
      );
      expect(changed).toMatchObject({
        ok: true,
        value: { event: { visibility: 'members', waitlistPolicy: 'first_fit' } },
      });
    });
  });

  it.each(['completed', 'cancelled'] as const)('refuses to edit a %s event', (status) => {
    expect(decidePatch(withStatus(status), { name: 'x' }, seats)).toMatchObject({
      ok: false,
      refusal: { code: 'EVENT_NOT_EDITABLE', status: 422 },
    });
  });
});

describe('changedAt', () => {
  const later = hoursFromNow(1);

  it('dates a change by the clock', () => {
    expect(changedAt({ updatedAt: now }, later)).toEqual(later);
  });

  it('never dates a change before the last one, whatever clock decides it', () => {
    const event = { ...draft(), updatedAt: later };
    expect(changedAt(event, now)).toEqual(later);
    const published = decidePublish(event, now);
    expect(published).toMatchObject({ ok: true, value: { publishedAt: now, updatedAt: later } });
    expect(decidePatch(event, { name: 'Other' }, { confirmedSeats: 0, now })).toMatchObject({
      value: { event: { updatedAt: later } },
    });
    expect(decideCancel(event, now)).toMatchObject({ value: { updatedAt: later } });
  });
});
