/** The Postgres schema the notification service owns. */
export const DB_SCHEMA = 'notification';

/** Where the service's own migrations live. */
export const MIGRATIONS_FOLDER = new URL('../migrations', import.meta.url);
