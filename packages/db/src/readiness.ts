import { type Kysely, sql } from 'kysely';

/** A `/readyz` check: the database answers a trivial query. */
export function databaseReadiness<DB>(db: Kysely<DB>): () => Promise<void> {
  return async () => {
    await sql`SELECT 1`.execute(db);
  };
}
