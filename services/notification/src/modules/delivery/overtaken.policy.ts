import type { NotificationType } from '../../domain.ts';

/** Why a notice was given up unsent as overtaken (`last_error` of a `skipped` one). */
export const OVERTAKEN = {
  bookingCancelled: 'overtaken: the booking was cancelled since',
  eventCancelled: 'overtaken: the event was cancelled since',
  newerBookingNotice: 'overtaken: a notice of a newer state of the booking was sent',
  bookingChanged: 'overtaken: the booking changed since',
  newerUpdate: 'overtaken: a later update of the event was sent',
  noLongerHolder: 'overtaken: the person holds no booking for the event any more',
} as const;

export type OvertakenReason = (typeof OVERTAKEN)[keyof typeof OVERTAKEN];

/** A notice about to be sent, as stored. */
export interface PendingNotice {
  type: NotificationType;
  eventId: string | null;
  bookingId: string | null;
  /** The booking version it tells of (booking notices written since migration 20251122000900). */
  bookingVersion: number | null;
  /** The catalog version of the event details it tells; null when unknown. */
  eventVersion: number | null;
}

/** Another notice of the same person on the same channel that was sent. */
export interface SentNotice {
  type: NotificationType;
  eventId: string | null;
  bookingId: string | null;
  bookingVersion: number | null;
  /** The catalog version of the event details it told; null when unknown. */
  eventVersion: number | null;
  /** Written after the pending notice (`created_at`). */
  writtenAfter: boolean;
}

/** What is known now of the notice's booking and event. */
export interface SinceWritten {
  /** The holders projection has the booking cancelled (final). */
  bookingCancelled: boolean;
  /** The booking's version in the holders projection; null when unknown. */
  bookingVersion: number | null;
  /** The event's cancellation is recorded (`cancelled_events`). */
  eventCancelled: boolean;
  /**
   * The person still holds a confirmed or waiting booking for the event (holders projection);
   * read for an update's notice, which names no booking of its own.
   */
  holdsBooking: boolean;
  /** The person's notices on the notice's channel about its booking or event that were sent. */
  sent: readonly SentNotice[];
}

const CANCELLATIONS: ReadonlySet<NotificationType> = new Set([
  'booking_cancelled',
  'event_cancelled',
]);

/** Notices that state the event's name and time, which a later update may have changed. */
const TELLS_EVENT_DETAILS: ReadonlySet<NotificationType> = new Set([
  'booking_confirmed',
  'booking_waitlisted',
  'waitlist_promoted',
  'event_updated',
]);

/**
 * Whether a notice is overtaken when it is about to be sent, and why: sent now it would be the
 * last message its person reads about the booking or event, and a stale one. It is overtaken
 * when, since it was written,
 * - its booking or its event was cancelled, unless it is itself a cancellation's notice
 *   ("confirmed" never follows "cancelled", whether or not the cancellation's notice went out);
 * - for an update's notice, its person holds no booking for the event any more;
 * - a notice of a newer version of its booking went to the person on its channel ("on the
 *   waitlist" after "your seats are confirmed");
 * - its booking is at a newer version than it tells, whether or not that version's notice went
 *   out on its channel (not wanted there, or failed too: "on the waitlist" after a promotion);
 * - an update of its event telling newer details went to the person on its channel (by the
 *   catalog versions both told, or else written after it): it may tell the name or time the
 *   update changed (a notice written after an update already tells the details the update left,
 *   see `planWithKnownVersions`). A cancellation's notice is never overtaken.
 * Invites, and notices that are about no event, never are.
 */
export function overtakenBy(
  notice: PendingNotice,
  since: SinceWritten,
): OvertakenReason | undefined {
  if (notice.eventId === null || CANCELLATIONS.has(notice.type)) return undefined;
  if (notice.bookingId !== null && since.bookingCancelled) return OVERTAKEN.bookingCancelled;
  if (since.eventCancelled) return OVERTAKEN.eventCancelled;
  // An update goes to the event's holders; one who cancelled since has nothing left it concerns.
  if (notice.type === 'event_updated' && !since.holdsBooking) return OVERTAKEN.noLongerHolder;
  const version = notice.bookingVersion;
  if (
    version !== null &&
    since.sent.some(
      (s) =>
        s.bookingId === notice.bookingId && s.bookingVersion !== null && s.bookingVersion > version,
    )
  )
    return OVERTAKEN.newerBookingNotice;
  if (version !== null && since.bookingVersion !== null && since.bookingVersion > version)
    return OVERTAKEN.bookingChanged;
  if (
    TELLS_EVENT_DETAILS.has(notice.type) &&
    since.sent.some(
      (s) => s.type === 'event_updated' && s.eventId === notice.eventId && tellsNewer(s, notice),
    )
  )
    return OVERTAKEN.newerUpdate;
  return undefined;
}

/**
 * Whether a sent update told newer event details than the pending notice: by the versions they
 * told when both are known (an update handled late, after a newer one, is written later but
 * tells no newer details); else by which was written later.
 */
function tellsNewer(sent: SentNotice, notice: PendingNotice): boolean {
  if (sent.eventVersion !== null && notice.eventVersion !== null)
    return sent.eventVersion > notice.eventVersion;
  return sent.writtenAfter;
}
