import { migrateToLatest } from '@happening/db';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { BookingDb } from './db/database.ts';

export const BOOKING_SCHEMA = 'booking';
export const MIGRATIONS_FOLDER = new URL('../migrations/', import.meta.url);

/** Applies the platform and booking migrations to the `booking` schema. */
export function migrateBooking(db: Kysely<BookingDb>, logger?: Logger): Promise<void> {
  return migrateToLatest({
    db,
    schema: BOOKING_SCHEMA,
    migrationsFolder: MIGRATIONS_FOLDER,
    ...(logger ? { logger } : {}),
  });
}
