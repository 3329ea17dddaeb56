import type {
  EVENT_CATEGORIES,
  EVENT_STATUSES,
  VISIBILITIES,
  WAITLIST_POLICIES,
} from '@happening/contracts';

export type EventCategory = (typeof EVENT_CATEGORIES)[number];
export type EventStatus = (typeof EVENT_STATUSES)[number];
export type Visibility = (typeof VISIBILITIES)[number];
export type WaitlistPolicy = (typeof WAITLIST_POLICIES)[number];

/** An event as the catalog holds it. */
export interface CatalogEvent {
  id: string;
  orgId: string;
  name: string;
  description: string;
  category: EventCategory;
  startsAt: Date;
  endsAt: Date;
  timezone: string;
  venue: string;
  totalSlots: number;
  status: EventStatus;
  visibility: Visibility;
  waitlistPolicy: WaitlistPolicy;
  maxSeatsPerBooking: number;
  publishedAt: Date | null;
  createdBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields an organizer may change with PATCH. */
export const EDITABLE_FIELDS = [
  'name',
  'description',
  'category',
  'startsAt',
  'endsAt',
  'timezone',
  'venue',
  'totalSlots',
  'visibility',
  'waitlistPolicy',
  'maxSeatsPerBooking',
] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

type EditableFields = Pick<CatalogEvent, EditableField>;

/** What a create carries; without maxSeatsPerBooking the event gets its default. */
export type EventDraftInput = Omit<EditableFields, 'maxSeatsPerBooking'> &
  Partial<Pick<EditableFields, 'maxSeatsPerBooking'>>;
export type EventPatch = Partial<EditableFields>;

export const MAX_TOTAL_SLOTS = 100_000;
const DEFAULT_MAX_SEATS_PER_BOOKING = 10;

// Never above the capacity: under a FIFO waitlist a request for more seats than the event has
// could never be served and would hold up everyone queued behind it.
export const defaultMaxSeatsPerBooking = (totalSlots: number) =>
  Math.min(DEFAULT_MAX_SEATS_PER_BOOKING, totalSlots);
