import { type Kysely, sql, type Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import type { Preference } from './preference.policy.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

export interface StoredPreference {
  userId: string;
  type: string;
  channel: string;
  enabled: boolean;
}

/** Stored choices of the given people (defaults are not stored). */
export async function storedPreferences(
  db: Db,
  userIds: readonly string[],
): Promise<StoredPreference[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .selectFrom('notification_preferences')
    .select(['user_id', 'type', 'channel', 'enabled'])
    // One array parameter, however many holders a fan-out reaches.
    .where('user_id', '=', sql<string>`ANY(${[...userIds]}::text[])`)
    .execute();
  return rows.map((r) => ({
    userId: r.user_id,
    type: r.type,
    channel: r.channel,
    enabled: r.enabled,
  }));
}

export async function savePreferences(
  db: Db,
  userId: string,
  preferences: readonly Preference[],
): Promise<void> {
  if (preferences.length === 0) return;
  await db
    .insertInto('notification_preferences')
    .values(
      preferences.map((p) => ({
        user_id: userId,
        type: p.type,
        channel: p.channel,
        enabled: p.enabled,
      })),
    )
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'channel', 'type'])
        .doUpdateSet((eb) => ({ enabled: eb.ref('excluded.enabled') })),
    )
    .execute();
}
