import type { z } from 'zod';
import {
  availabilityChangedV1,
  bookingCancelledV1,
  bookingCancelledV2,
  bookingConfirmedV1,
  bookingWaitlistedV1,
  waitlistPromotedV1,
} from './events/booking.events.ts';
import {
  eventCancelledV1,
  eventCapacityChangedV1,
  eventCreatedV1,
  eventPublishedV1,
  eventStatusChangedV1,
  eventUpdatedV1,
} from './events/catalog.events.ts';
import {
  memberInvitedV1,
  memberInvitedV2,
  memberJoinedV1,
  memberRemovedV1,
  memberRoleChangedV1,
  organizationCreatedV1,
  userRegisteredV1,
} from './events/identity.events.ts';
import { notificationFailedV1, notificationSentV1 } from './events/notification.events.ts';

/**
 * Every published event type with its payload schema per version. A new incompatible payload is
 * a new version entry; consumers keep parsing the versions they know.
 */
export const eventRegistry = {
  'identity.user_registered': { 1: userRegisteredV1 },
  'identity.organization_created': { 1: organizationCreatedV1 },
  'identity.member_invited': { 1: memberInvitedV1, 2: memberInvitedV2 },
  'identity.member_joined': { 1: memberJoinedV1 },
  'identity.member_role_changed': { 1: memberRoleChangedV1 },
  'identity.member_removed': { 1: memberRemovedV1 },
  'catalog.event_created': { 1: eventCreatedV1 },
  'catalog.event_published': { 1: eventPublishedV1 },
  'catalog.event_updated': { 1: eventUpdatedV1 },
  'catalog.event_capacity_changed': { 1: eventCapacityChangedV1 },
  'catalog.event_status_changed': { 1: eventStatusChangedV1 },
  'catalog.event_cancelled': { 1: eventCancelledV1 },
  'booking.booking_confirmed': { 1: bookingConfirmedV1 },
  'booking.booking_waitlisted': { 1: bookingWaitlistedV1 },
  'booking.booking_cancelled': { 1: bookingCancelledV1, 2: bookingCancelledV2 },
  'booking.waitlist_promoted': { 1: waitlistPromotedV1 },
  'booking.availability_changed': { 1: availabilityChangedV1 },
  'notification.notification_sent': { 1: notificationSentV1 },
  'notification.notification_failed': { 1: notificationFailedV1 },
} as const satisfies Record<string, Record<number, z.ZodType>>;

export type EventType = keyof typeof eventRegistry;
export const EVENT_TYPES = Object.keys(eventRegistry) as EventType[];

type Registry = typeof eventRegistry;

/** The versions of `T` consumers parse. */
export type EventVersion<T extends EventType> = keyof Registry[T] & number;

/** The newest version of each type that has more than one; every other type is at version 1. */
const NEWER_VERSIONS = {
  'identity.member_invited': 2,
  'booking.booking_cancelled': 2,
} as const satisfies { [T in EventType]?: EventVersion<T> };

/** The version `buildEvent` writes for `T`: its newest. */
export type CurrentVersion<T extends EventType> = T extends keyof typeof NEWER_VERSIONS
  ? (typeof NEWER_VERSIONS)[T]
  : 1;

/** The version `buildEvent` writes for `type`: its newest. */
export function currentVersion<T extends EventType>(type: T): CurrentVersion<T> {
  return ((NEWER_VERSIONS as Partial<Record<EventType, number>>)[type] ?? 1) as CurrentVersion<T>;
}

/** Payload of version `V` of an event type. */
export type EventDataOf<T extends EventType, V extends number> = V extends keyof Registry[T]
  ? Registry[T][V] extends z.ZodType
    ? z.output<Registry[T][V]>
    : never
  : never;

/** Payload of the current version of an event type (what its publisher writes). */
export type EventData<T extends EventType> = CurrentPayloads[T];
type CurrentPayloads = { [T in EventType]: EventDataOf<T, CurrentVersion<T>> };

/** Payload of any version of an event type (what its consumers may receive). */
export type AnyEventData<T extends EventType> = AnyPayloads[T];
type AnyPayloads = {
  [T in EventType]: { [V in EventVersion<T>]: EventDataOf<T, V> }[EventVersion<T>];
};

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(eventRegistry, value);
}
