import { canTransition, isFinished, statusAt } from '../lifecycle/lifecycle.policy.ts';
import {
  type CatalogEvent,
  defaultMaxSeatsPerBooking,
  EDITABLE_FIELDS,
  type EditableField,
  type EventDraftInput,
  type EventPatch,
  type EventStatus,
} from './event.model.ts';
import { accept, type Decision, refuse } from './event.refusal.ts';
import { sameTimeZone } from './time-zone.ts';

/** One changed field, with JSON-friendly values (times as ISO-8601). */
export interface FieldChange {
  from: unknown;
  to: unknown;
}

export interface PatchOutcome {
  event: CatalogEvent;
  /** Changed fields other than capacity; empty when only the capacity changed. */
  changes: Partial<Record<EditableField, FieldChange>>;
  capacity?: { previousTotalSlots: number; totalSlots: number };
}

const timeOrderRefusal = () =>
  refuse<never>({
    code: 'VALIDATION_FAILED',
    status: 400,
    detail: 'The event must start before it ends.',
    errors: [{ path: 'body.endsAt', message: 'must be after startsAt' }],
  });

const seatsAboveCapacity = (totalSlots: number) =>
  refuse<never>({
    code: 'VALIDATION_FAILED',
    status: 400,
    detail: 'One booking cannot ask for more seats than the event has.',
    errors: [
      { path: 'body.maxSeatsPerBooking', message: `must be at most totalSlots (${totalSlots})` },
    ],
  });

const illegalTransition = (from: EventStatus, to: string) =>
  refuse<never>({
    code: 'ILLEGAL_TRANSITION',
    status: 422,
    detail: `A ${from} event cannot become ${to}.`,
  });

/**
 * When a change at `now` is dated: never before the event's last change, so a replica whose clock
 * is behind the one that wrote it last cannot date it before its creation or its publication.
 */
export const changedAt = (event: Pick<CatalogEvent, 'updatedAt'>, now: Date): Date =>
  now > event.updatedAt ? now : event.updatedAt;

/** A new event, always a draft at version 1. */
export function decideCreate(
  input: EventDraftInput,
  ctx: { id: string; orgId: string; createdBy: string; now: Date },
): Decision<CatalogEvent> {
  if (input.startsAt >= input.endsAt) return timeOrderRefusal();
  const maxSeatsPerBooking =
    input.maxSeatsPerBooking ?? defaultMaxSeatsPerBooking(input.totalSlots);
  if (maxSeatsPerBooking > input.totalSlots) return seatsAboveCapacity(input.totalSlots);
  return accept({
    ...input,
    maxSeatsPerBooking,
    id: ctx.id,
    orgId: ctx.orgId,
    status: 'draft',
    publishedAt: null,
    createdBy: ctx.createdBy,
    version: 1,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  });
}

/**
 * Draft → upcoming; only while the start time is still ahead. A draft stored before seats per
 * booking were capped at totalSlots is published with the cap, part of the publishing version.
 */
export function decidePublish(event: CatalogEvent, now: Date): Decision<CatalogEvent> {
  if (!canTransition(event.status, 'upcoming')) return illegalTransition(event.status, 'upcoming');
  if (event.startsAt <= now) {
    return refuse({
      code: 'EVENT_START_IN_PAST',
      status: 422,
      detail: 'An event can only be published while its start time is in the future.',
      errors: [{ path: 'startsAt', message: 'must be in the future' }],
    });
  }
  return accept({
    ...event,
    status: 'upcoming',
    maxSeatsPerBooking: Math.min(event.maxSeatsPerBooking, event.totalSlots),
    publishedAt: now,
    version: event.version + 1,
    updatedAt: changedAt(event, now),
  });
}

/**
 * Draft, upcoming or ongoing → cancelled, judged on the status the clock implies: an event whose
 * end passed has taken place even if the lifecycle job has not completed it yet.
 */
export function decideCancel(event: CatalogEvent, now: Date): Decision<CatalogEvent> {
  const status = statusAt(event, now);
  if (!canTransition(status, 'cancelled')) return illegalTransition(status, 'cancelled');
  return accept({
    ...event,
    status: 'cancelled',
    version: event.version + 1,
    updatedAt: changedAt(event, now),
  });
}

/**
 * A published event's new times must fit its status (`status`, the one the clock implies): an
 * upcoming event moved to a start that has passed would be rushed through ongoing to completed by
 * the next lifecycle run; an ongoing event has started, and an end that has passed would complete
 * it at once. Drafts are checked at publish.
 */
function timesOutOfStatus(
  status: EventStatus,
  event: CatalogEvent,
  next: CatalogEvent,
  now: Date,
): Decision<never> | undefined {
  const startsAtChanged = next.startsAt.getTime() !== event.startsAt.getTime();
  const endsAtChanged = next.endsAt.getTime() !== event.endsAt.getTime();
  if (status === 'upcoming' && startsAtChanged && next.startsAt <= now) {
    return refuse({
      code: 'EVENT_START_IN_PAST',
      status: 422,
      detail: 'A published event can only be moved to a start time in the future.',
      errors: [{ path: 'body.startsAt', message: 'must be in the future' }],
    });
  }
  if (status === 'ongoing' && startsAtChanged) {
    return refuse({
      code: 'EVENT_ALREADY_STARTED',
      status: 422,
      detail: 'An ongoing event has started; its start time can no longer change.',
      errors: [{ path: 'body.startsAt', message: 'cannot change once the event has started' }],
    });
  }
  if (status === 'ongoing' && endsAtChanged && next.endsAt <= now) {
    return refuse({
      code: 'EVENT_END_IN_PAST',
      status: 422,
      detail: 'An ongoing event can only be moved to an end time in the future.',
      errors: [{ path: 'body.endsAt', message: 'must be in the future' }],
    });
  }
  return undefined;
}

/**
 * Once published, people hold bookings and wait in line under the event's terms: narrowing it to
 * members would hide it from bookers who are not (while notification keeps mailing them about it),
 * and a new waitlist policy would reorder those already waiting. Drafts may change both.
 */
function termsOutOfStatus(event: CatalogEvent, next: CatalogEvent): Decision<never> | undefined {
  if (event.status === 'draft') return undefined;
  if (event.visibility === 'public' && next.visibility === 'members') {
    return refuse({
      code: 'EVENT_VISIBILITY_NARROWED',
      status: 422,
      detail: "A published event's visibility can only widen, from members to public.",
      errors: [{ path: 'body.visibility', message: 'cannot narrow once the event is published' }],
    });
  }
  if (next.waitlistPolicy !== event.waitlistPolicy) {
    return refuse({
      code: 'EVENT_WAITLIST_POLICY_LOCKED',
      status: 422,
      detail: "A published event's waitlist policy can no longer change.",
      errors: [
        { path: 'body.waitlistPolicy', message: 'cannot change once the event is published' },
      ],
    });
  }
  return undefined;
}

const jsonValue = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
const sameValue = (a: unknown, b: unknown) => jsonValue(a) === jsonValue(b);

/** A field's new value changes nothing: equal, or for a time zone another name of the same zone. */
const unchanged = (field: EditableField, from: unknown, to: unknown) =>
  field === 'timezone' && typeof from === 'string' && typeof to === 'string'
    ? sameTimeZone(from, to)
    : sameValue(from, to);

/**
 * Applies a PATCH: only fields whose value really changes count; the capacity change is reported
 * apart from the other changes because consumers react to it differently.
 */
export function decidePatch(
  event: CatalogEvent,
  patch: EventPatch,
  ctx: { confirmedSeats: number; now: Date },
): Decision<PatchOutcome> {
  // The status the clock implies: between a start or end passing and the lifecycle job moving the
  // event on, the stored status is stale.
  const status = statusAt(event, ctx.now);
  if (isFinished(status)) {
    return refuse({
      code: 'EVENT_NOT_EDITABLE',
      status: 422,
      detail: `A ${status} event can no longer be changed.`,
    });
  }
  const next: CatalogEvent = { ...event };
  const changes: PatchOutcome['changes'] = {};
  for (const field of EDITABLE_FIELDS) {
    const to = patch[field];
    if (to === undefined || unchanged(field, event[field], to)) continue;
    (next as Record<EditableField, unknown>)[field] = to;
    if (field !== 'totalSlots')
      changes[field] = { from: jsonValue(event[field]), to: jsonValue(to) };
  }
  if (next.startsAt >= next.endsAt) return timeOrderRefusal();
  const capacityChanged = next.totalSlots !== event.totalSlots;
  // Checked only when one of the two changes, so an event stored before the rule existed can
  // still have its other fields edited.
  const seatLimitsChanged = capacityChanged || next.maxSeatsPerBooking !== event.maxSeatsPerBooking;
  if (seatLimitsChanged && next.maxSeatsPerBooking > next.totalSlots) {
    return seatsAboveCapacity(next.totalSlots);
  }
  const timesRefused = timesOutOfStatus(status, event, next, ctx.now);
  if (timesRefused) return timesRefused;
  const termsRefused = termsOutOfStatus(event, next);
  if (termsRefused) return termsRefused;

  // Only a cut is refused: a raise never makes an oversubscribed event worse (bookings that raced a
  // cut, or a cut booking reported on late), and refusing it would block the organizer's way out.
  if (next.totalSlots < event.totalSlots && next.totalSlots < ctx.confirmedSeats) {
    return refuse({
      code: 'CAPACITY_BELOW_CONFIRMED',
      status: 409,
      detail: `${ctx.confirmedSeats} seats are already confirmed; total slots cannot be cut below that.`,
      errors: [{ path: 'body.totalSlots', message: `must be at least ${ctx.confirmedSeats}` }],
    });
  }
  if (!capacityChanged && Object.keys(changes).length === 0) return accept({ event, changes });

  const changed = { ...next, version: event.version + 1, updatedAt: changedAt(event, ctx.now) };
  return accept({
    event: changed,
    changes,
    ...(capacityChanged
      ? { capacity: { previousTotalSlots: event.totalSlots, totalSlots: next.totalSlots } }
      : {}),
  });
}
