import { type DomainEvent, openInviteLink, type SealedBox } from '@happening/contracts';
import { UnprocessableMessage } from '@happening/messaging';
import type { NotificationType } from '../../domain.ts';
import type { HolderRange } from '../event-holders/event-holder.repository.ts';
import {
  changesStillCurrent,
  detailsSinceBooked,
  type EventChanges,
  type EventSnapshot,
  type EventVersion,
  newestOf,
} from '../event-versions/event-version.policy.ts';
import { describeChanges } from './change.describer.ts';

/** Who a planned notification goes to. */
export type Audience =
  | { kind: 'user'; userId: string }
  /** Every holder of an active booking for the event (and, for a cancellation, the bookings it cancelled). */
  | EventHoldersAudience
  | { kind: 'address'; email: string };

/** An event's holders; a fan-out in chunks addresses those in one stretch (`range`) at a time. */
export interface EventHoldersAudience {
  kind: 'eventHolders';
  eventId: string;
  includeCancelledWithEvent: boolean;
  range?: HolderRange;
}

/** What one domain event should tell people, before recipients and channels are resolved. */
export interface NotificationPlan {
  type: NotificationType;
  audience: Audience;
  orgId: string | null;
  eventId: string | null;
  bookingId: string | null;
  /** Template variables; the recipient's `name` is added per recipient. */
  context: Record<string, unknown>;
  /**
   * Variables that must not be stored in clear text (the invite's accept link): they are rendered
   * only into the sealed copy that is sent, while the stored body shows the placeholder. Revealed
   * only when the notice is written, so a message already handled is never opened again (its key
   * may have been rotated out since).
   */
  secrets: Record<string, { reveal: () => string; placeholder: string }>;
  /**
   * The catalog version of the event details it tells (the newest known here when it is
   * written); null when unknown. An update sent later overtakes it only if it tells a newer one.
   */
  eventVersion?: number | null;
}

const ACCEPT_LINK_PLACEHOLDER = '(the accept link is in the email you received)';

/**
 * The zone a notice shows its event's times in when the event's own is not known here (no update
 * of it handled yet: neither booking events nor the cancellation carry it); `when` names it.
 */
export const ZONE_UNKNOWN = 'UTC';

/** The event's time zone as the newest version known here has it, or `ZONE_UNKNOWN`. */
export function eventZoneOf(known: readonly EventVersion[]): string {
  return newestOf(known)?.details.timezone ?? ZONE_UNKNOWN;
}

/**
 * Maps a consumed domain event to the notification it calls for, if any. `inviteLinks` opens the
 * accept link identity-org sealed into member_invited.
 */
export function planNotification(
  event: DomainEvent,
  inviteLinks: SealedBox,
): NotificationPlan | undefined {
  switch (event.type) {
    case 'booking.booking_confirmed':
    case 'booking.waitlist_promoted': {
      const d = event.data;
      const type =
        event.type === 'booking.booking_confirmed' ? 'booking_confirmed' : 'waitlist_promoted';
      return ownerNotice(type, d, { seatNumbers: d.seatNumbers });
    }
    case 'booking.booking_waitlisted': {
      const d = event.data;
      return ownerNotice('booking_waitlisted', d, {
        waitlistPosition: d.waitlistPosition,
        waitingNumber: d.waitingNumber,
      });
    }
    case 'booking.booking_cancelled': {
      const d = event.data;
      // The event-cancelled notice already tells these people; one cancellation, one message.
      if (d.reason === 'event_cancelled') return undefined;
      // A waitlist closed by the event taking place: nothing left to act on, and no news to
      // someone who was never told of a seat.
      if (d.reason === 'event_completed') return undefined;
      return ownerNotice('booking_cancelled', d, {
        seatNumbers: d.seatNumbers,
        wasWaiting: d.previousStatus === 'waiting',
        byOrganizer: d.reason === 'by_organizer',
        note: d.note ?? '',
      });
    }
    case 'catalog.event_updated': {
      const d = event.data;
      return eventUpdateNotice(d.eventId, d.orgId, d.changes, d.event);
    }
    case 'catalog.event_cancelled': {
      const d = event.data;
      return {
        type: 'event_cancelled',
        audience: { kind: 'eventHolders', eventId: d.eventId, includeCancelledWithEvent: true },
        orgId: d.orgId,
        eventId: d.eventId,
        bookingId: null,
        context: {
          eventName: d.name,
          eventStartsAt: d.startsAt,
          timezone: ZONE_UNKNOWN,
          reason: d.reason,
        },
        secrets: {},
      };
    }
    case 'identity.member_invited': {
      const d = event.data;
      // The address has been mailed as many invites as it may be in a day, by all organizations
      // together (identity-org's INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS): the invite exists, its
      // orgAdmin hands the token over. Absent (and in version 1) it is mailed.
      if ('mailed' in d && d.mailed === false) return undefined;
      return {
        type: 'org_invite',
        audience: { kind: 'address', email: d.email },
        orgId: d.organizationId,
        eventId: null,
        bookingId: null,
        context: { organizationName: d.organizationName, role: d.role, expiresAt: d.expiresAt },
        secrets: {
          acceptUrl: {
            reveal: () => acceptUrlOf(d, inviteLinks),
            placeholder: ACCEPT_LINK_PLACEHOLDER,
          },
        },
      };
    }
    default:
      return undefined;
  }
}

/**
 * The notice `event` calls for, addressed to one person only: a booking's news overtaken by its
 * event's cancellation, or a notice that waited for that person's contact details (a fan-out's
 * included: it goes to this holder alone, not to the event's holders again).
 */
export function planNoticeFor(
  event: DomainEvent,
  userId: string,
  inviteLinks: SealedBox,
): NotificationPlan | undefined {
  const plan = planNotification(event, inviteLinks);
  return plan && { ...plan, audience: { kind: 'user', userId } };
}

/**
 * The notice `plan` for `event`, told with the event's details at the newest catalog version
 * known here (`loadKnown`, called only for the notices told with them: a booking's news, an
 * update and a cancellation). Its times are shown in the event's time zone as the newest version
 * has it (`timezone`), in UTC when no version is known. A booking notice the booking service
 * decided on details since replaced shows the newest ones and lists what changed (its person may
 * not have been a holder when the update fanned out). An update older than the newest version
 * known tells only the changes the event still has, with the newest details; undefined when none
 * are left.
 */
export async function planWithKnownVersions(
  event: DomainEvent,
  plan: NotificationPlan,
  loadKnown: () => Promise<readonly EventVersion[]>,
): Promise<NotificationPlan | undefined> {
  switch (event.type) {
    case 'booking.booking_confirmed':
    case 'booking.booking_waitlisted':
    case 'booking.waitlist_promoted':
    case 'booking.booking_cancelled': {
      const d = event.data;
      const known = await loadKnown();
      const timezone = eventZoneOf(known);
      const since = detailsSinceBooked(
        { name: d.eventName, startsAt: d.eventStartsAt, version: d.eventVersion },
        known,
      );
      if (!since) {
        // What it tells is what the newest version known says too (nothing it tells changed).
        const zoned = { ...plan, context: { ...plan.context, timezone } };
        const newest = newestOf(known)?.version;
        if (plan.eventVersion == null || newest === undefined) return zoned;
        return { ...zoned, eventVersion: Math.max(plan.eventVersion, newest) };
      }
      const context = {
        ...plan.context,
        eventName: since.newest.name,
        eventStartsAt: since.newest.startsAt,
        timezone,
        // In the zone the notice shows its time in.
        changes: describeChanges(since.changes, timezone),
      };
      return { ...plan, context, eventVersion: since.newest.version };
    }
    case 'catalog.event_cancelled': {
      // Its name and start are the cancellation's own; only the zone comes from the versions.
      const timezone = eventZoneOf(await loadKnown());
      return { ...plan, context: { ...plan.context, timezone } };
    }
    case 'catalog.event_updated': {
      const newest = newestOf(await loadKnown());
      if (!newest || newest.version <= event.aggregate.version) return plan;
      const d = event.data;
      const current = changesStillCurrent(d.changes, newest.details);
      const notice = eventUpdateNotice(d.eventId, d.orgId, current, newest.details);
      return notice && { ...notice, audience: plan.audience };
    }
    default:
      return plan;
  }
}

/** An update's notice to the event's holders: `changes`, and the event as `details` has it. */
function eventUpdateNotice(
  eventId: string,
  orgId: string,
  changes: EventChanges,
  details: EventSnapshot,
): NotificationPlan | undefined {
  const described = describeChanges(changes, details.timezone);
  if (described.length === 0) return undefined;
  return {
    type: 'event_updated',
    audience: { kind: 'eventHolders', eventId, includeCancelledWithEvent: false },
    orgId,
    eventId,
    bookingId: null,
    context: {
      eventName: details.name,
      eventStartsAt: details.startsAt,
      timezone: details.timezone,
      venue: details.venue,
      changes: described,
    },
    secrets: {},
    eventVersion: details.version,
  };
}

/**
 * The invite's accept link: opened from version 2's sealed field, or as version 1 carried it in
 * clear (still in flight after the upgrade). A link that does not open (sealed under another
 * INVITE_LINK_KEY, or for an invite saying otherwise) never will: the message is dead-lettered at once.
 */
function acceptUrlOf(
  d: Extract<DomainEvent, { type: 'identity.member_invited' }>['data'],
  inviteLinks: SealedBox,
): string {
  if (!('sealedAcceptUrl' in d)) return d.acceptUrl;
  try {
    return openInviteLink(inviteLinks, d);
  } catch {
    throw new UnprocessableMessage(
      `the accept link of invite ${d.inviteId} does not open with this INVITE_LINK_KEY (sealed under another key, or for an invite saying otherwise)`,
    );
  }
}

interface BookingFacts {
  orgId: string;
  eventId: string;
  bookingId: string;
  userId: string;
  seats: number;
  eventName: string;
  eventStartsAt: string;
  eventVersion?: number | undefined;
}

/** A notice to a booking's owner: the booking's facts plus what this event adds. */
function ownerNotice(
  type: NotificationType,
  d: BookingFacts,
  extra: Record<string, unknown>,
): NotificationPlan {
  return {
    type,
    audience: { kind: 'user', userId: d.userId },
    orgId: d.orgId,
    eventId: d.eventId,
    bookingId: d.bookingId,
    context: {
      eventName: d.eventName,
      eventStartsAt: d.eventStartsAt,
      timezone: ZONE_UNKNOWN,
      seats: d.seats,
      ...extra,
    },
    secrets: {},
    eventVersion: d.eventVersion ?? null,
  };
}
