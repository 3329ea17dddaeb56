import { closeDb, createDb } from '@happening/db';
import { createLogger, loadConfig } from '@happening/service-kit';
import { z } from 'zod';
import type { BookingDb } from './db/database.ts';
import { rebuildProjections } from './modules/booking/booking.rebuild.ts';
import { BOOKING_SCHEMA } from './schema.ts';

// Needs only the database, so it reads just that instead of the whole service configuration.
const { DATABASE_URL } = loadConfig(z.object({ DATABASE_URL: z.string().min(1) }));
const logger = createLogger({ name: 'booking-rebuild' });
const db = createDb<BookingDb>({ connectionString: DATABASE_URL, schema: BOOKING_SCHEMA, max: 1 });
try {
  const { bookings } = await rebuildProjections(db);
  logger.info({ bookings }, 'bookings and booking_seats rebuilt from booking_history');
} finally {
  await closeDb(db);
}
