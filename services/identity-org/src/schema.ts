/** The Postgres schema identity-org owns. */
export const DB_SCHEMA = 'identity';

/** Where the service's own migrations live. */
export const MIGRATIONS_FOLDER = new URL('../migrations', import.meta.url);
