import type { Kysely, Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import type { NotificationChannel, NotificationType } from '../../domain.ts';
import type { TemplateSource } from './template.renderer.ts';

type Db = Kysely<NotificationDb> | Transaction<NotificationDb>;

/** The platform's fallback language: every type and channel has an English template. */
export const DEFAULT_LOCALE = 'en';

/** The newest template version of a type and channel in `locale`, else in English. */
export async function latestTemplate(
  db: Db,
  type: NotificationType,
  channel: NotificationChannel,
  locale: string = DEFAULT_LOCALE,
): Promise<TemplateSource | undefined> {
  return db
    .selectFrom('templates')
    .select(['type', 'channel', 'locale', 'version', 'subject', 'body'])
    .where('type', '=', type)
    .where('channel', '=', channel)
    .where('locale', 'in', [locale, DEFAULT_LOCALE])
    .orderBy((eb) => eb.case().when('locale', '=', locale).then(0).else(1).end())
    .orderBy('version', 'desc')
    .executeTakeFirst();
}
