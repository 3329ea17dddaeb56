import type { DomainEvent, SealedBox } from '@happening/contracts';
import { handleOnce } from '@happening/db';
import { UnprocessableMessage } from '@happening/messaging';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import {
  cancellationOf,
  lockEventHolders,
} from '../cancelled-events/cancelled-event.repository.ts';
import {
  cancellationConcerns,
  holderChangeOf,
  holderChangeOvertaken,
  projectEventHolders,
} from '../event-holders/event-holder.projection.ts';
import { projectEventVersions } from '../event-versions/event-version.projection.ts';
import { knownVersionsOf } from '../event-versions/event-version.repository.ts';
import { fanOutInChunks } from '../fan-outs/fan-out.runner.ts';
import { projectMemberships } from '../memberships/membership.projection.ts';
import {
  type NotificationPlan,
  planNoticeFor,
  planNotification,
  planWithKnownVersions,
} from '../notifications/notification.planner.ts';
import {
  type NotificationWriterDeps,
  writeNotifications,
} from '../notifications/notification.writer.ts';
import { projectRecipients } from '../recipients/recipient.projection.ts';
import { lockRecipients } from '../recipients/recipient.repository.ts';
import { countWaitingNoticesGivenUp } from '../waiting-notices/waiting-notice.metrics.ts';
import {
  sourceEventOf,
  storedTypeOf,
  takeWaitingNotices,
  type WaitingNotice,
} from '../waiting-notices/waiting-notice.repository.ts';

/** Inbox consumer of the notices an event calls for. */
export const INBOX_CONSUMER = 'notification';
/** Inbox consumer of the projections an event feeds. */
export const PROJECTIONS_CONSUMER = 'notification.projections';

export interface DomainEventHandlerDeps extends NotificationWriterDeps {
  inviteLinks: SealedBox;
  /** A notice waiting longer than this for its person's contact details is given up. */
  waitingNoticeExpiryMs: number;
}

/**
 * Handles one domain event exactly once, in two inbox transactions: first the projections (so a
 * booking's holder row exists before an update fans out), then the notifications it calls for
 * (those to an event's holders in chunks of their own, `fanOutInChunks`, the last of which is the
 * inbox transaction).
 * A notice for a person whose contact details have not arrived waits for them (`waiting_notices`)
 * and is written in the transaction that projects those details.
 */
export function domainEventHandler(db: Kysely<NotificationDb>, deps: DomainEventHandlerDeps) {
  return async (event: DomainEvent): Promise<void> => {
    let givenUp = 0;
    await handleOnce(db, { consumer: PROJECTIONS_CONSUMER, messageId: event.id }, async (trx) => {
      const detailsOf = await projectRecipients(trx, event);
      if (detailsOf) givenUp = await writeWaitingNotices(trx, deps, detailsOf);
      await projectMemberships(trx, event);
      await projectEventHolders(trx, event);
      await projectEventVersions(trx, event);
    });
    // After the commit: a rolled-back transaction gave nothing up.
    countWaitingNoticesGivenUp(givenUp);
    const plan = planNotification(event, deps.inviteLinks);
    if (!plan) return;
    const entry = { consumer: INBOX_CONSUMER, messageId: event.id };
    if (plan.audience.kind === 'eventHolders') {
      await fanOutInChunks(db, entry, plan.audience, (trx, audience) =>
        writeCheckedNotice(trx, deps, event, { ...plan, audience }, { lockHolders: true }),
      );
      return;
    }
    await handleOnce(db, entry, async (trx) => {
      await writeCheckedNotice(trx, deps, event, plan, { lockHolders: true });
    });
  };
}

/**
 * Writes `event`'s notice `plan` unless what is known now says otherwise: an update of an event
 * since cancelled tells nobody, a booking's news about an event already cancelled is the
 * cancellation's notice instead, and a booking's news overtaken by a later change of the booking
 * is not written. Every notice goes through here, those that waited for their person's details
 * included: "on the waitlist" that waited must not be written beside the promotion that waited
 * with it. `lockHolders`: whether an update checks its event's cancellation under the event's
 * holders lock (not when it waited, see `writeWaitingNotices`).
 */
async function writeCheckedNotice(
  trx: Transaction<NotificationDb>,
  deps: DomainEventHandlerDeps,
  event: DomainEvent,
  plan: NotificationPlan,
  { lockHolders }: { lockHolders: boolean },
): Promise<void> {
  if (await updateOfCancelledEvent(trx, event, lockHolders)) return;
  // The event's cancellation first: a booking overtaken by its cancellation because of it
  // (whose notice is suppressed) must still hear of it.
  const late = await cancellationNoticeInstead(trx, event, deps.inviteLinks);
  if (late) await writeCurrentNotice(trx, deps, late.cancellation, late.plan);
  else if (!(await holderChangeOvertaken(trx, event)))
    await writeCurrentNotice(trx, deps, event, plan);
}

/**
 * Writes `event`'s notice told with its event's newest known details (`planWithKnownVersions`).
 * An update reads them under the event's holders lock (taken by `updateOfCancelledEvent`), as
 * newer versions are recorded. A booking notice needs no lock: its holder row committed first,
 * so an update recorded after this read fans out to its person.
 */
async function writeCurrentNotice(
  trx: Transaction<NotificationDb>,
  deps: NotificationWriterDeps,
  event: DomainEvent,
  plan: NotificationPlan,
): Promise<void> {
  // Read only for the notices told with them: an invite, say, does without.
  const { eventId } = plan;
  const current = await planWithKnownVersions(event, plan, async () =>
    eventId === null ? [] : knownVersionsOf(trx, eventId),
  );
  if (current) await writeNotifications(trx, deps, event, current);
}

/**
 * Whether the event is an update of an event already cancelled, handled late: its holders were
 * told of the cancellation and must not hear of a change after it. Under the event's holders
 * lock, as the cancellation is recorded, so an update handled at the same time either sees the
 * cancellation or has written its notices before the cancellation's are.
 */
async function updateOfCancelledEvent(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
  lock: boolean,
): Promise<boolean> {
  if (event.type !== 'catalog.event_updated') return false;
  if (lock) await lockEventHolders(trx, event.data.eventId);
  return (await cancellationOf(trx, event.data.eventId)) !== undefined;
}

/**
 * A booking's news about an event already cancelled: its person was not a holder when the
 * cancellation fanned out, so they are told of the cancellation instead (as the cancellation's
 * notice, which one person gets once even should the fan-out have reached them after all).
 */
async function cancellationNoticeInstead(
  trx: Transaction<NotificationDb>,
  event: DomainEvent,
  inviteLinks: SealedBox,
): Promise<{ cancellation: DomainEvent; plan: NotificationPlan } | undefined> {
  const change = holderChangeOf(event);
  if (!change || change.status === 'cancelled') return undefined;
  const cancellation = await cancellationOf(trx, change.eventId);
  const plan = cancellation && planNoticeFor(cancellation, change.userId, inviteLinks);
  if (!cancellation || !plan) return undefined;
  if (!(await cancellationConcerns(trx, change.bookingId))) return undefined;
  return { cancellation, plan };
}

/**
 * Writes the notices that waited for a person whose contact details have just been projected,
 * as they would have been written had the details been there, with the event's details as now
 * known (same source event, so a person the notice reached meanwhile does not get it twice). Under the person's recipient lock, which
 * a notice finding them unknown takes before it starts waiting.
 *
 * Each under a savepoint of its own: one that can never be written (`UnprocessableMessage`: its
 * stored envelope no longer parses, no template for it, its template fails to render) is given
 * up, what it wrote undone, and the person's details and other notices are still committed; a
 * notice failing that way on every delivery would otherwise keep the details from ever being
 * projected. Any other error (the database, a connection) may go away: it fails the transaction,
 * and the message is retried.
 */
async function writeWaitingNotices(
  trx: Transaction<NotificationDb>,
  deps: DomainEventHandlerDeps,
  userId: string,
): Promise<number> {
  let givenUp = 0;
  await lockRecipients(trx, [userId]);
  for (const notice of await takeWaitingNotices(trx, userId, deps.waitingNoticeExpiryMs)) {
    await sql`SAVEPOINT waiting_notice`.execute(trx);
    try {
      await writeWaitingNotice(trx, deps, userId, notice);
      await sql`RELEASE SAVEPOINT waiting_notice`.execute(trx);
    } catch (error) {
      if (!(error instanceof UnprocessableMessage)) throw error;
      await sql`ROLLBACK TO SAVEPOINT waiting_notice`.execute(trx);
      // Rolling back keeps the savepoint: released, the next notice's is not nested in it.
      await sql`RELEASE SAVEPOINT waiting_notice`.execute(trx);
      // The notice and why, never what it says (the reason names fields or a template, no values).
      deps.logger.warn(
        {
          userId,
          sourceEventId: notice.sourceEventId,
          type: storedTypeOf(notice),
          reason: error.message,
        },
        'waiting notice given up: it can never be written',
      );
      givenUp++;
    }
  }
  return givenUp;
}

async function writeWaitingNotice(
  trx: Transaction<NotificationDb>,
  deps: DomainEventHandlerDeps,
  userId: string,
  notice: WaitingNotice,
): Promise<void> {
  const source = sourceEventOf(notice);
  const plan = planNoticeFor(source, userId, deps.inviteLinks);
  // Without the holders lock: taken after this person's recipient lock, it could deadlock with
  // an update's fan-out, which takes them the other way round. An update's cancellation read
  // without it is still in time: one committed later fans out to this person after this notice.
  if (plan) await writeCheckedNotice(trx, deps, source, plan, { lockHolders: false });
}
