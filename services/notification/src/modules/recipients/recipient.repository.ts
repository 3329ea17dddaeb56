import { type Kysely, sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

export interface Recipient {
  userId: string;
  email: string;
  name: string;
  phone: string | null;
}

/** What identity announces of a person: their details, and whether it verified their email. */
export interface AnnouncedRecipient extends Recipient {
  /** Null when the announcement does not say (published before it did): not verified. */
  emailVerified: boolean | null;
}

/** Stores a recipient's details as of identity's user `version`; older versions change nothing. */
export async function upsertRecipient(
  db: Db,
  recipient: AnnouncedRecipient,
  version: number,
): Promise<void> {
  await db
    .insertInto('recipients')
    .values({
      user_id: recipient.userId,
      email: recipient.email,
      name: recipient.name,
      phone: recipient.phone,
      email_verified: recipient.emailVerified,
      user_version: version,
    })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          email: eb.ref('excluded.email'),
          name: eb.ref('excluded.name'),
          // A later event without a phone does not forget the one we know.
          phone: eb.fn.coalesce('excluded.phone', 'recipients.phone'),
          // Not kept like the phone: an announcement that does not say (an older publisher) may
          // carry another address, whose verification nobody told us of.
          email_verified: eb.ref('excluded.email_verified'),
          user_version: eb.ref('excluded.user_version'),
        }))
        .where('recipients.user_version', '<', (eb) => eb.ref('excluded.user_version')),
    )
    .execute();
}

/**
 * Serialises writing a notice for people not known yet with the arrival of their details: the
 * notice either sees the details or is kept waiting where their arrival then finds it. Locked in
 * one order, so fan-outs locking some of the same people cannot deadlock.
 */
export async function lockRecipients(
  trx: Transaction<NotificationDb>,
  userIds: readonly string[],
): Promise<void> {
  // The subquery's ORDER BY keeps it from being flattened: the locks are taken in its order.
  await sql`
    SELECT pg_advisory_xact_lock(hashtextextended('recipient:' || user_id, 0))
    FROM (SELECT DISTINCT unnest(${[...userIds]}::text[]) AS user_id ORDER BY 1) AS ids`.execute(
    trx,
  );
}

export async function findRecipients(db: Db, userIds: readonly string[]): Promise<Recipient[]> {
  if (userIds.length === 0) return [];
  // One array parameter, however many holders an event has (a list would take one each).
  const rows = await db
    .selectFrom('recipients')
    .select(['user_id', 'email', 'name', 'phone'])
    .where('user_id', '=', sql<string>`ANY(${[...userIds]}::text[])`)
    .execute();
  return rows.map((r) => ({ userId: r.user_id, email: r.email, name: r.name, phone: r.phone }));
}

/**
 * The known person whose verified email is this address, if any (addresses compare
 * case-insensitively). An account whose token merely claims an address, unverified, is not its
 * holder: what is addressed there (an invite) must not show up in that account's list.
 */
export async function findVerifiedRecipientByEmail(
  db: Db,
  email: string,
): Promise<Recipient | undefined> {
  const row = await db
    .selectFrom('recipients')
    .select(['user_id', 'email', 'name', 'phone'])
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .where('email_verified', 'is', true)
    .orderBy('updated_at', 'desc')
    .executeTakeFirst();
  return row && { userId: row.user_id, email: row.email, name: row.name, phone: row.phone };
}
