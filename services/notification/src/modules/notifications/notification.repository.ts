import { rowChunks } from '@happening/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { NewNotificationRow, NotificationDb, NotificationRow } from '../../database.ts';
import type { NotificationStatus } from '../../domain.ts';
import { newToTheirPerson, type PersonsNotice } from './once-per-person.policy.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

/**
 * Stores new notifications, each person's once per source event and channel
 * (`newToTheirPerson`): a row whose person already has a notification of the same source event
 * on the same channel, whatever its address, is skipped, and so is one whose (source event,
 * recipient, channel) exists already, so a redelivered source event yields nothing new. Returns
 * the rows actually inserted.
 */
export async function insertNotifications(
  db: Db,
  rows: readonly NewNotificationRow[],
): Promise<Array<{ id: string; correlation_id: string }>> {
  const fresh = newToTheirPerson(rows, await noticesOfTheirPeople(db, rows));
  const inserted: Array<{ id: string; correlation_id: string }> = [];
  for (const chunk of rowChunks(fresh, Object.keys(fresh[0] ?? {}).length)) {
    inserted.push(
      ...(await db
        .insertInto('notifications')
        .values(chunk)
        .onConflict((oc) => oc.columns(['source_event_id', 'recipient', 'channel']).doNothing())
        .returning(['id', 'correlation_id'])
        .execute()),
    );
  }
  return inserted;
}

/** The notifications the people of `rows` have of their source events, on any channel. */
async function noticesOfTheirPeople(
  db: Db,
  rows: readonly NewNotificationRow[],
): Promise<PersonsNotice[]> {
  const userIds = [...new Set(rows.flatMap((r) => (r.user_id ? [r.user_id] : [])))];
  if (userIds.length === 0) return [];
  const sources = [...new Set(rows.map((r) => r.source_event_id))];
  return db
    .selectFrom('notifications')
    .select(['source_event_id', 'user_id', 'channel'])
    .where('source_event_id', '=', sql<string>`ANY(${sources}::uuid[])`)
    .where('user_id', '=', sql<string>`ANY(${userIds}::text[])`)
    .execute();
}

export async function findNotification(db: Db, id: string): Promise<NotificationRow | undefined> {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Whose notifications a list reads: a person's, or every one an organization's work sent. */
export type NotificationOwner = { userId: string } | { orgId: string };

/**
 * One page of a person's or an organization's notifications, newest first, after the keyset
 * position `after`. Each row carries its `created_at` as Postgres prints it (microseconds kept)
 * for the next cursor: the notifications of one event share one `created_at`, and a cursor
 * rounded to the millisecond would skip the rest of them.
 */
export async function listNotificationsOf(
  db: Db,
  owner: NotificationOwner,
  options: {
    status?: NotificationStatus;
    limit: number;
    after?: { createdAt: string; id: string };
  },
): Promise<(NotificationRow & { created_at_text: string })[]> {
  let query = db
    .selectFrom('notifications')
    .selectAll()
    .select(sql<string>`created_at::text`.as('created_at_text'))
    .where((eb) =>
      'userId' in owner ? eb('user_id', '=', owner.userId) : eb('org_id', '=', owner.orgId),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.status) query = query.where('status', '=', options.status);
  const after = options.after;
  if (after) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('created_at', 'id'),
        '<',
        eb.tuple(sql<Date>`${after.createdAt}::timestamptz`, after.id),
      ),
    );
  }
  return query.execute();
}

const NO_LEASE = { lease_token: null, leased_until: null } as const;

/** `now()` plus `ms`, as Postgres computes it (one clock for every replica). */
const fromNow = (ms: number) => sql<Date>`now() + make_interval(secs => ${ms / 1_000}::float8)`;

/** Why an attempt found abandoned was counted (`last_error`). */
export const UNRECORDED_SEND =
  'the send ended without a recorded outcome (its worker stopped, or could not store the outcome)';

/**
 * Whether a row's lease ran out unrenewed, by the database's clock: its send ended without a
 * recorded outcome (its worker died, or could not store the outcome). NULL, so false, for a row
 * never leased or whose lease was ended.
 */
const LEASE_RAN_OUT = sql<boolean>`leased_until < now()`;

/**
 * The one definition of an abandoned attempt, for whichever finds it first, a claim
 * (`claimForDelivery`) or the sweep (`staleClaim`): an UPDATE setting `counted` counts a lease
 * that ran out as an attempt (`last_error` says so), and `failed` when that makes `maxAttempts`
 * (`givesUp`); a row without such a lease keeps its attempts, status and error. Either path also
 * ends or replaces the lease in the same statement, so the other never counts it again. SET reads
 * the row as it was before the statement.
 */
function abandonedAttempt(maxAttempts: number) {
  const givesUp = sql<boolean>`(${LEASE_RAN_OUT} AND attempts + 1 >= ${maxAttempts})`;
  return {
    givesUp,
    counted: {
      attempts: sql<number>`attempts + CASE WHEN ${LEASE_RAN_OUT} THEN 1 ELSE 0 END`,
      status: sql<NotificationStatus>`CASE WHEN ${givesUp} THEN 'failed' ELSE status END`,
      last_error: sql<string | null>`CASE WHEN ${LEASE_RAN_OUT} THEN ${UNRECORDED_SEND}
        ELSE last_error END`,
    },
  };
}

/**
 * Claims a pending notification for one send, for `leaseMs` unless renewed, under `token`.
 * Undefined when it is gone, no longer pending, or leased by a worker sending it right now. A
 * lease that ran out was a send that ended without a recorded outcome: the claim counts it (see
 * `abandonedAttempt`), as the sweep would had it found it first, and when that was the last of
 * `maxAttempts` the notification comes back `failed`, unleased, for the caller to give up (and
 * publish) instead of sending it again.
 */
export async function claimForDelivery(
  db: Db,
  id: string,
  token: string,
  leaseMs: number,
  maxAttempts: number,
): Promise<NotificationRow | undefined> {
  const abandoned = abandonedAttempt(maxAttempts);
  return db
    .updateTable('notifications')
    .set({
      ...abandoned.counted,
      lease_token: sql<
        string | null
      >`CASE WHEN ${abandoned.givesUp} THEN NULL ELSE ${token}::uuid END`,
      leased_until: sql<Date | null>`CASE WHEN ${abandoned.givesUp} THEN NULL
        ELSE ${fromNow(leaseMs)} END`,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('leased_until', 'is', null), LEASE_RAN_OUT]))
    .returningAll()
    .executeTakeFirst();
}

/** Extends a lease its holder still has; false when it is gone (the notification moved on). */
export async function renewLease(
  db: Db,
  id: string,
  token: string,
  leaseMs: number,
): Promise<boolean> {
  const renewed = await db
    .updateTable('notifications')
    .set({ leased_until: fromNow(leaseMs) })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('lease_token', '=', token)
    .executeTakeFirst();
  return renewed.numUpdatedRows > 0n;
}

/**
 * Records a provider's acceptance. The provider has the message whoever holds the lease now, so
 * any pending notification becomes sent; undefined when it was not pending any more. The sealed
 * body (an invite's single-use accept link) goes: a sent notification is never sent again (only
 * a failed one is retried), and the link must not outlive its use for the whole retention.
 */
export async function markSent(
  db: Db,
  id: string,
  providerMessageId: string | null,
): Promise<NotificationRow | undefined> {
  return db
    .updateTable('notifications')
    .set((eb) => ({
      status: 'sent',
      attempts: eb('attempts', '+', 1),
      provider_message_id: providerMessageId,
      sent_at: sql<Date>`now()`,
      last_error: null,
      sealed_body: null,
      ...NO_LEASE,
    }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

/** Why a notification was given up unsent (`last_error` of a `skipped` one). */
export const SKIP_REASONS = {
  channelOff: 'the recipient turned this channel off',
  addressTaken: 'the address the recipient has now already gets this notice',
} as const;

/** Gives a notification up unsent, for `reason` (one of `SKIP_REASONS`). */
export async function markSkipped(db: Db, id: string, reason: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ status: 'skipped', last_error: reason, ...NO_LEASE })
    .where('id', '=', id)
    .execute();
}

/**
 * Sends a notification to `recipient` from now on (its person's address changed since it was
 * written); undefined, unchanged, when another notification of the same source event and channel
 * goes to that address already (`UNIQUE (source_event_id, recipient, channel)`).
 */
export async function readdress(
  db: Db,
  id: string,
  recipient: string,
): Promise<NotificationRow | undefined> {
  return db
    .updateTable('notifications as n')
    .set({ recipient })
    .where('n.id', '=', id)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('notifications as o')
            .select('o.id')
            .whereRef('o.source_event_id', '=', 'n.source_event_id')
            .whereRef('o.channel', '=', 'n.channel')
            .where('o.recipient', '=', recipient)
            .whereRef('o.id', '<>', 'n.id'),
        ),
      ),
    )
    .returningAll()
    .executeTakeFirst();
}

/**
 * Counts a failed attempt of the lease holder and ends the lease; `final` gives up and marks the
 * notification failed. Undefined when the lease was not the caller's any more.
 */
export async function recordFailure(
  db: Db,
  id: string,
  token: string,
  error: string,
  final: boolean,
): Promise<NotificationRow | undefined> {
  return db
    .updateTable('notifications')
    .set((eb) => ({
      status: final ? 'failed' : 'pending',
      attempts: eb('attempts', '+', 1),
      last_error: error,
      ...NO_LEASE,
    }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('lease_token', '=', token)
    .returningAll()
    .executeTakeFirst();
}

/** Puts a failed notification back to pending; undefined when it was not failed. */
export async function reopenFailed(
  trx: Transaction<NotificationDb>,
  id: string,
): Promise<NotificationRow | undefined> {
  return trx
    .updateTable('notifications')
    .set({ status: 'pending' })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .returningAll()
    .executeTakeFirst();
}

/**
 * Claims notifications pending and untouched for `staleAfterMs`, and those whose lease ran out unrenewed
 * (their worker died mid-send, or could not record the outcome), ends those leases and bumps
 * `updated_at`, so another replica's sweep (SKIP LOCKED) and the next round leave them alone until
 * they go stale again. A lease that still holds is a send in progress: never claimed. A lease
 * that ran out was an attempt nobody recorded: it is counted (`abandonedAttempt`, as a claim that
 * finds it first counts it), and the notification becomes `failed` once that makes
 * `maxAttempts`; otherwise it stays `pending`, to be handed out again.
 */
export async function claimStalePending(
  trx: Transaction<NotificationDb>,
  staleAfterMs: number,
  limit: number,
  maxAttempts: number,
): Promise<NotificationRow[]> {
  return staleClaim(trx, staleAfterMs, limit, maxAttempts).execute();
}

/**
 * The sweep's statement. The two kinds are picked by two subqueries, each walking its own partial
 * index (`notifications_pending_idx` by `updated_at`, `notifications_leased_idx` by
 * `leased_until`) and stopping after `limit` rows: one condition ORing both would walk every
 * pending notification, fresh ones included, on every round of every replica. Staleness is
 * measured on the database's clock, which wrote `updated_at` (`now()`), as leases are: a replica
 * whose clock ran ahead would otherwise enqueue notifications again that are not stale at all.
 */
export function staleClaim(
  trx: Transaction<NotificationDb>,
  staleAfterMs: number,
  limit: number,
  maxAttempts: number,
) {
  const unleased = trx
    .selectFrom('notifications')
    .select('id')
    .where('status', '=', 'pending')
    .where('updated_at', '<', fromNow(-staleAfterMs))
    .where('leased_until', 'is', null)
    .orderBy('updated_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  const abandoned = trx
    .selectFrom('notifications')
    .select('id')
    .where('status', '=', 'pending')
    .where(LEASE_RAN_OUT)
    .orderBy('leased_until')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  return (
    trx
      .updateTable('notifications')
      .set({
        updated_at: sql<Date>`now()`,
        ...abandonedAttempt(maxAttempts).counted,
        ...NO_LEASE,
      })
      // At most `limit` in all; the second kind's rows past it stay locked, unchanged, until commit.
      .where('id', '=', sql<string>`ANY((ARRAY(${unleased}) || ARRAY(${abandoned}))[1:${limit}])`)
      .returningAll()
  );
}
