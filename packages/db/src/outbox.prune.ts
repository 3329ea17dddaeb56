import type { Kysely } from 'kysely';
import type { PlatformTables } from './platform.tables.ts';

/** Deletes outbox rows published before `publishedBefore`; unpublished rows are never touched. */
export async function pruneOutbox<DB>(
  db: Kysely<DB>,
  { publishedBefore }: { publishedBefore: Date },
): Promise<number> {
  const result = await (db as unknown as Kysely<PlatformTables>)
    .deleteFrom('outbox')
    .where('published_at', 'is not', null)
    .where('published_at', '<', publishedBefore)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
