import type { EventData, EventEnvelope } from '@happening/contracts';

/** An event as catalog describes it at one version. */
export type EventSnapshot = EventData<'catalog.event_updated'>['event'];

/** What `catalog.event_updated` says changed: each field's old and new value. */
export type EventChanges = EventData<'catalog.event_updated'>['changes'];

/** The details of an event at one catalog version. */
export interface EventVersion {
  version: number;
  details: EventSnapshot;
}

/** What a booking event carries of its event: the booking service's copy when it decided. */
export interface BookedDetails {
  name: string;
  startsAt: string;
  /** The catalog version of that copy; absent from booking events published before it was. */
  version?: number | undefined;
}

/** What a holder must hear of when it changed since they booked: time, place and name. */
const HOLDER_FIELDS = ['startsAt', 'endsAt', 'venue', 'timezone', 'name'] as const;

const DATE_FIELDS = new Set(['startsAt', 'endsAt']);

/** Equal values of a snapshot field; times as instants, whatever offset they were written with. */
function sameValue(field: string, a: unknown, b: unknown): boolean {
  if (DATE_FIELDS.has(field) && typeof a === 'string' && typeof b === 'string')
    return Date.parse(a) === Date.parse(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The versions an update tells of. */
export interface VersionsTold {
  own: EventVersion;
  /** The version it changed: its snapshot with each changed field's old value. */
  before: EventVersion | undefined;
}

/** What an update tells of its own version and the one before (catalog counts one per change). */
export function versionsToldBy(update: EventEnvelope<'catalog.event_updated'>): VersionsTold {
  const version = update.aggregate.version;
  const { changes, event } = update.data;
  const own = { version, details: event };
  if (version <= 1) return { own, before: undefined };
  const before: Record<string, unknown> = { ...event, version: version - 1 };
  for (const [field, change] of Object.entries(changes))
    if (field in event && field !== 'version') before[field] = change.from;
  return { own, before: { version: version - 1, details: before as EventSnapshot } };
}

/** The newest of the known versions. */
export function newestOf(known: readonly EventVersion[]): EventVersion | undefined {
  return known.reduce<EventVersion | undefined>(
    (newest, v) => (newest && newest.version >= v.version ? newest : v),
    undefined,
  );
}

const sameAs = (booked: BookedDetails, details: EventSnapshot) =>
  booked.name === details.name && sameValue('startsAt', booked.startsAt, details.startsAt);

/**
 * The newest known details, and what of them differs, when a booking event carries details its
 * event had at an older known version: the booking service decided before it had applied an
 * update. Undefined when the booking's details are the newest known, or those of no version known
 * here: the booking service may have applied a version not handled here yet, whose update then
 * reaches this booking's owner as a holder.
 */
export function detailsSinceBooked(
  booked: BookedDetails,
  known: readonly EventVersion[],
): { newest: EventSnapshot; changes: EventChanges } | undefined {
  if (booked.version !== undefined) return detailsSinceVersion(booked.version, booked, known);
  const newest = newestOf(known);
  if (!newest || sameAs(booked, newest.details)) return undefined;
  if (!known.some((v) => v.version < newest.version && sameAs(booked, v.details))) return undefined;
  const changes: EventChanges = {};
  if (booked.name !== newest.details.name)
    changes.name = { from: booked.name, to: newest.details.name };
  if (!sameValue('startsAt', booked.startsAt, newest.details.startsAt))
    changes.startsAt = { from: booked.startsAt, to: newest.details.startsAt };
  return { newest: newest.details, changes };
}

/**
 * As `detailsSinceBooked`, for a booking event that names the catalog version it was decided
 * with: any newer known version counts, and every field a holder must hear of is compared (the
 * venue included) with the details of that version (see `detailsDecidedOn`).
 */
function detailsSinceVersion(
  version: number,
  booked: BookedDetails,
  known: readonly EventVersion[],
): { newest: EventSnapshot; changes: EventChanges } | undefined {
  const newest = newestOf(known);
  if (!newest || newest.version <= version) return undefined;
  const decidedOn = detailsDecidedOn(version, booked, known);
  const current: Record<string, unknown> = newest.details;
  const changes: EventChanges = {};
  for (const field of HOLDER_FIELDS) {
    if (!(field in decidedOn) || sameValue(field, decidedOn[field], current[field])) continue;
    changes[field] = { from: decidedOn[field], to: current[field] } as EventChanges[string];
  }
  return Object.keys(changes).length > 0 ? { newest: newest.details, changes } : undefined;
}

/**
 * The details a booking was decided on at catalog `version`, older than the newest known. That
 * version is often none an update told of: the booking service copies the event at
 * `event_published` too, and catalog counts a version for changes that send no `event_updated`
 * (capacity, status), so a booking can name a version never recorded here (published at 2,
 * capacity raised at 3, venue changed at 4: only 4 and 3 are known). Then the earliest known
 * version newer than it stands for it: that is the "before" snapshot of an update (were it an
 * update's own version, the one before would be known too, and be the booking's or nearer), and
 * no update handled here changed the details in between, since each records the version before
 * it. An update not handled yet that did reaches the booking's person as a holder when it is. Comparing only the name and start the booking
 * carries would miss a change of the venue, end or time zone handled here before the booking,
 * whose fan-out could not reach its person. Those two the booking carries are its own word for
 * its version and are kept over the stand-in's.
 */
function detailsDecidedOn(
  version: number,
  booked: BookedDetails,
  known: readonly EventVersion[],
): Record<string, unknown> {
  const exact = known.find((v) => v.version === version);
  if (exact) return exact.details;
  const next = known.reduce<EventVersion | undefined>(
    (earliest, v) =>
      v.version > version && (!earliest || v.version < earliest.version) ? v : earliest,
    undefined,
  );
  return { ...next?.details, name: booked.name, startsAt: booked.startsAt };
}

/**
 * The changes of an update that the event still has as the update left them: a newer version
 * may have changed a field again, and that update tells the newer value.
 */
export function changesStillCurrent(changes: EventChanges, newest: EventSnapshot): EventChanges {
  const current: Record<string, unknown> = newest;
  return Object.fromEntries(
    Object.entries(changes).filter(
      ([field, change]) => field in current && sameValue(field, current[field], change.to),
    ),
  );
}
