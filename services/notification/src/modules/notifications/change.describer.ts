import { formatWhen } from '../templates/template.helpers.ts';

/** One changed field of an event, in words. */
export interface DescribedChange {
  label: string;
  from: string;
  to: string;
}

const LABELS: Record<string, string> = {
  name: 'Name',
  description: 'Description',
  category: 'Category',
  startsAt: 'Start',
  endsAt: 'End',
  timezone: 'Time zone',
  venue: 'Venue',
  totalSlots: 'Seats',
  visibility: 'Visibility',
  waitlistPolicy: 'Waitlist policy',
  maxSeatsPerBooking: 'Seats per booking',
};

// Time and place first: those are what a ticket holder must not miss.
const ORDER = ['startsAt', 'endsAt', 'venue', 'timezone', 'name'];
const DATE_FIELDS = new Set(['startsAt', 'endsAt']);
const MAX_VALUE_LENGTH = 200;

function describeValue(field: string, value: unknown, timeZone: string): string {
  if (value === null || value === undefined || value === '') return '(none)';
  if (DATE_FIELDS.has(field) && typeof value === 'string') return formatWhen(value, timeZone);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

function rank(field: string): number {
  const index = ORDER.indexOf(field);
  return index === -1 ? ORDER.length : index;
}

/** Turns catalog's `changes` into readable lines; internal fields (the version) are left out. */
export function describeChanges(
  changes: Record<string, { from?: unknown; to?: unknown }>,
  timeZone: string,
): DescribedChange[] {
  return Object.entries(changes)
    .filter(([field]) => field !== 'version')
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([field, change]) => ({
      label: LABELS[field] ?? field,
      from: describeValue(field, change.from, timeZone),
      to: describeValue(field, change.to, timeZone),
    }));
}
