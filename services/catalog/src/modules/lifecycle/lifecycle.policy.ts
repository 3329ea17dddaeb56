import type { EventStatus } from '../events/event.model.ts';

/** Every legal status change: publishing, the clock moving an event on, and cancelling. */
const TRANSITIONS: Readonly<Record<EventStatus, readonly EventStatus[]>> = {
  draft: ['upcoming', 'cancelled'],
  upcoming: ['ongoing', 'cancelled'],
  ongoing: ['completed', 'cancelled'],
  completed: [],
  cancelled: [],
};

export function canTransition(from: EventStatus, to: EventStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses in which an event can no longer be edited. */
export function isFinished(status: EventStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Statuses the public listing shows. */
export const LISTED_STATUSES = ['upcoming', 'ongoing'] as const satisfies readonly EventStatus[];

/**
 * The status the clock moves an event to at `now`, or undefined when it stays. The lifecycle job's
 * guarded UPDATEs implement exactly this rule in SQL.
 */
export function scheduledTransition(
  event: { status: EventStatus; startsAt: Date; endsAt: Date },
  now: Date,
): EventStatus | undefined {
  if (event.status === 'upcoming' && event.startsAt <= now) return 'ongoing';
  if (event.status === 'ongoing' && event.endsAt <= now) return 'completed';
  return undefined;
}
