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

export type EventDraftInput = Pick<CatalogEvent, EditableField>;
export type EventPatch = Partial<EventDraftInput>;

export const MAX_TOTAL_SLOTS = 100_000;
export const DEFAULT_MAX_SEATS_PER_BOOKING = 10;
