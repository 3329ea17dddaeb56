import { randomUUID } from 'node:crypto';
import {
  buildEvent,
  type CancellationReason,
  type DomainEvent,
  type EventData,
  type EventEnvelope,
  type EventType,
  type InviteFacts,
} from '@happening/contracts';
import type { NewNotificationRow } from '../src/database.ts';

const SOURCE: Record<string, 'identity-org' | 'catalog' | 'booking'> = {
  identity: 'identity-org',
  catalog: 'catalog',
  booking: 'booking',
};

/** Builds a valid envelope as the publishing service would. */
export function envelope<T extends EventType>(
  type: T,
  data: EventData<T>,
  options: { aggregateId?: string; version?: number; orgId?: string } = {},
): EventEnvelope<T> {
  const context = type.split('.')[0] as string;
  return buildEvent(type, data, {
    source: SOURCE[context] ?? 'booking',
    aggregate: {
      type: context,
      id: options.aggregateId ?? randomUUID(),
      version: options.version ?? 1,
    },
    correlationId: randomUUID(),
    ...(options.orgId ? { orgId: options.orgId } : {}),
  });
}

export interface BookingFacts {
  bookingId: string;
  eventId: string;
  orgId: string;
  userId: string;
  seats: number;
  eventName: string;
  eventStartsAt: string;
  eventVersion?: number;
}

export function bookingFacts(overrides: Partial<BookingFacts> = {}): BookingFacts {
  return {
    bookingId: randomUUID(),
    eventId: randomUUID(),
    orgId: randomUUID(),
    userId: randomUUID(),
    seats: 2,
    eventName: 'Rust Meetup',
    eventStartsAt: '2026-03-03T19:00:00.000Z',
    ...overrides,
  };
}

export const confirmed = (f: BookingFacts, seatNumbers = [12, 13], version = 1) =>
  envelope(
    'booking.booking_confirmed',
    { ...f, seatNumbers },
    {
      aggregateId: f.bookingId,
      version,
      orgId: f.orgId,
    },
  );

export const waitlisted = (f: BookingFacts, waitlistPosition = 3, version = 1) =>
  envelope(
    'booking.booking_waitlisted',
    { ...f, waitingNumber: waitlistPosition, waitlistPosition },
    { aggregateId: f.bookingId, version, orgId: f.orgId },
  );

export const promoted = (f: BookingFacts, seatNumbers = [4, 5], version = 2) =>
  envelope(
    'booking.waitlist_promoted',
    { ...f, seatNumbers, waitingNumber: 1 },
    { aggregateId: f.bookingId, version, orgId: f.orgId },
  );

export const cancelled = (f: BookingFacts, reason: CancellationReason = 'by_owner', version = 2) =>
  envelope(
    'booking.booking_cancelled',
    {
      ...f,
      previousStatus: 'confirmed',
      seatNumbers: [12, 13],
      reason,
      cancelledBy: reason === 'by_owner' ? f.userId : randomUUID(),
    },
    { aggregateId: f.bookingId, version, orgId: f.orgId },
  );

export function eventSnapshot(eventId: string, orgId: string) {
  return {
    eventId,
    orgId,
    name: 'Rust Meetup',
    description: 'Talks and pizza',
    category: 'meetup' as const,
    startsAt: '2026-03-10T18:00:00.000Z',
    endsAt: '2026-03-10T21:00:00.000Z',
    timezone: 'Europe/Berlin',
    venue: 'Hall B',
    totalSlots: 50,
    status: 'upcoming' as const,
    visibility: 'public' as const,
    waitlistPolicy: 'fifo' as const,
    maxSeatsPerBooking: 4,
    version: 3,
  };
}

export const eventUpdated = (eventId: string, orgId: string) =>
  envelope(
    'catalog.event_updated',
    {
      eventId,
      orgId,
      changes: {
        startsAt: { from: '2026-03-03T19:00:00.000Z', to: '2026-03-10T18:00:00.000Z' },
        venue: { from: 'Hall A', to: 'Hall B' },
      },
      event: eventSnapshot(eventId, orgId),
    },
    { aggregateId: eventId, version: 3, orgId },
  );

export type EventSnapshot = ReturnType<typeof eventSnapshot>;

/**
 * The `catalog.event_updated` catalog publishes when `patch` changes the event `before` (the
 * next version), and the event after it.
 */
export function eventChange(before: EventSnapshot, patch: Partial<EventSnapshot>) {
  const after = { ...before, ...patch, version: before.version + 1 };
  const changes = Object.fromEntries(
    Object.entries(patch).map(([field, to]) => [
      field,
      { from: before[field as keyof EventSnapshot], to },
    ]),
  );
  const update = envelope(
    'catalog.event_updated',
    { eventId: before.eventId, orgId: before.orgId, changes, event: after },
    { aggregateId: before.eventId, version: after.version, orgId: before.orgId },
  );
  return { update, after };
}

export const eventCancelled = (eventId: string, orgId: string) =>
  envelope(
    'catalog.event_cancelled',
    {
      eventId,
      orgId,
      name: 'Rust Meetup',
      startsAt: '2026-03-03T19:00:00.000Z',
      reason: 'The speaker is ill',
      cancelledBy: randomUUID(),
    },
    { aggregateId: eventId, version: 4, orgId },
  );

/** `emailVerified` left out as identity-org published it before it said so. */
export const userRegistered = (
  userId: string,
  email: string,
  name: string,
  phone?: string,
  version = 1,
  emailVerified?: boolean,
) =>
  envelope(
    'identity.user_registered',
    {
      userId,
      email,
      name,
      ...(phone ? { phone } : {}),
      ...(emailVerified === undefined ? {} : { emailVerified }),
    },
    { aggregateId: userId, version },
  );

/**
 * A member_invited as identity-org publishes it: `seal` seals the accept link for notification
 * from the invite's facts (a test may seal it for other facts, or under another key).
 */
export const memberInvited = (
  organizationId: string,
  email: string,
  seal: (facts: InviteFacts) => string,
) => {
  const facts: InviteFacts = {
    inviteId: randomUUID(),
    organizationId,
    organizationName: 'Acme Events',
    email,
    role: 'organizer',
    invitedBy: randomUUID(),
    expiresAt: '2026-03-10T12:00:00.000Z',
  };
  return envelope(
    'identity.member_invited',
    { ...facts, sealedAcceptUrl: seal(facts) },
    { orgId: organizationId },
  );
};

/** A member_invited of version 1, with the accept link in clear, as published before version 2. */
export function memberInvitedV1(organizationId: string, email: string, acceptUrl: string) {
  const current = memberInvited(organizationId, email, () => 'c2VhbGVk');
  const { sealedAcceptUrl: _sealed, ...data } = current.data;
  return { ...current, version: 1, data: { ...data, acceptUrl } } as DomainEvent;
}

/** Each membership event a version above the last, as identity-org numbers an organization's. */
let membershipVersion = 0;

export const memberJoined = (
  organizationId: string,
  userId: string,
  role: 'orgAdmin' | 'organizer' | 'user',
) =>
  envelope(
    'identity.member_joined',
    { organizationId, userId, role },
    { aggregateId: organizationId, orgId: organizationId, version: ++membershipVersion },
  );

export const memberRemoved = (organizationId: string, userId: string, version: number) =>
  envelope(
    'identity.member_removed',
    { organizationId, userId, role: 'organizer', removedBy: randomUUID() },
    { aggregateId: organizationId, orgId: organizationId, version },
  );

export const memberRoleChanged = (
  organizationId: string,
  userId: string,
  role: 'orgAdmin' | 'organizer' | 'user',
  version: number,
) =>
  envelope(
    'identity.member_role_changed',
    { organizationId, userId, role, previousRole: 'orgAdmin', changedBy: randomUUID() },
    { aggregateId: organizationId, orgId: organizationId, version },
  );

/**
 * A notification row as a test stores it directly (never enqueued): an email with no user, org or
 * event; `overrides` sets what the test is about.
 */
export function strayNotification(
  overrides: Partial<NewNotificationRow> & Pick<NewNotificationRow, 'recipient'>,
): NewNotificationRow {
  return {
    id: randomUUID(),
    org_id: null,
    user_id: null,
    event_id: null,
    booking_id: null,
    type: 'org_invite',
    channel: 'email',
    locale: 'en',
    template_version: 1,
    subject: 'A stray notification',
    body: 'Stored by the test.',
    sealed_body: null,
    source_event_id: randomUUID(),
    correlation_id: randomUUID(),
    ...overrides,
  };
}
