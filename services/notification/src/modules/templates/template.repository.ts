import type { Kysely, Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import type { NotificationChannel, NotificationType } from '../../domain.ts';
import type { TemplateSource } from './template.renderer.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

/** Recipients carry no language yet: every notice uses the English templates. */
const LOCALE = 'en';

/** The newest template version of a type and channel. */
export async function latestTemplate(
  db: Db,
  type: NotificationType,
  channel: NotificationChannel,
): Promise<TemplateSource | undefined> {
  return db
    .selectFrom('templates')
    .select(['type', 'channel', 'locale', 'version', 'subject', 'body'])
    .where('type', '=', type)
    .where('channel', '=', channel)
    .where('locale', '=', LOCALE)
    .orderBy('version', 'desc')
    .executeTakeFirst();
}
