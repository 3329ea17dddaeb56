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

/** A move the clock makes: an event in `from` whose `due` time has passed goes to `to`. */
export interface ScheduledStep {
  from: EventStatus;
  to: EventStatus;
  due: 'startsAt' | 'endsAt';
}

/** The column of each step's due time, qualified so it reads the same in any query on events. */
export const DUE_COLUMN = { startsAt: 'events.starts_at', endsAt: 'events.ends_at' } as const;

// In this order, so an event whose start and end both passed while no job ran completes in one run.
export const SCHEDULED_STEPS: readonly ScheduledStep[] = [
  { from: 'upcoming', to: 'ongoing', due: 'startsAt' },
  { from: 'ongoing', to: 'completed', due: 'endsAt' },
];

/**
 * The status the clock moves an event to at `now`, or undefined when it stays. The lifecycle job
 * runs the same steps as guarded UPDATEs.
 */
export function scheduledTransition(
  event: { status: EventStatus; startsAt: Date; endsAt: Date },
  now: Date,
): EventStatus | undefined {
  return SCHEDULED_STEPS.find((step) => step.from === event.status && event[step.due] <= now)?.to;
}

/**
 * The status the clock implies at `now`: the stored one moved on by every scheduled step that is
 * due, whether or not the lifecycle job has run them yet.
 */
export function statusAt(
  event: { status: EventStatus; startsAt: Date; endsAt: Date },
  now: Date,
): EventStatus {
  let status = event.status;
  for (let next = scheduledTransition(event, now); next; ) {
    status = next;
    next = scheduledTransition({ ...event, status }, now);
  }
  return status;
}

/**
 * One way an event shows `status` at some time: stored as `stored`, with the `passed` due times at
 * or before it and the `pending` one (if any) still after it.
 */
export interface StatusRoute {
  stored: EventStatus;
  passed: readonly ScheduledStep['due'][];
  pending?: ScheduledStep['due'];
}

/**
 * Every route by which `statusAt` gives each status: what a query filtering on the status the
 * clock implies has to match, in terms of the stored status and the event's times. Written out
 * from `SCHEDULED_STEPS`; its test checks every route against `statusAt`.
 */
const ROUTES: Readonly<Record<EventStatus, readonly StatusRoute[]>> = {
  draft: [{ stored: 'draft', passed: [] }],
  upcoming: [{ stored: 'upcoming', passed: [], pending: 'startsAt' }],
  ongoing: [
    { stored: 'ongoing', passed: [], pending: 'endsAt' },
    { stored: 'upcoming', passed: ['startsAt'], pending: 'endsAt' },
  ],
  completed: [
    { stored: 'completed', passed: [] },
    { stored: 'ongoing', passed: ['endsAt'] },
    { stored: 'upcoming', passed: ['startsAt', 'endsAt'] },
  ],
  cancelled: [{ stored: 'cancelled', passed: [] }],
};

export const routesTo = (status: EventStatus): readonly StatusRoute[] => ROUTES[status];
