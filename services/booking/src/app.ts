import { type AuthPluginOptions, authPlugin } from '@happening/auth';
import { databaseReadiness } from '@happening/db';
import { type App, createApp, type ReadinessCheck } from '@happening/service-kit';
import type { Logger } from 'pino';
import type { BookingContext } from './context.ts';
import { registerBookingRoutes } from './modules/booking/booking.routes.ts';
import { registerInventoryRoutes } from './modules/inventory/inventory.routes.ts';

export interface BuildAppOptions {
  ctx: BookingContext;
  auth: AuthPluginOptions;
  logger?: Logger;
  /** Probes besides Postgres and Redis that `/readyz` runs (e.g. the broker connection). */
  readinessChecks?: Record<string, ReadinessCheck>;
}

/** The booking service's HTTP app: auth, booking and inventory routes, health and metrics. */
export async function buildApp(options: BuildAppOptions): Promise<App> {
  const { ctx, auth } = options;
  const app = createApp({
    name: 'booking',
    openapi: {
      title: 'Happening booking API',
      version: '1.0.0',
      description:
        'Seat bookings and waitlists: book, cancel, promotions per policy, availability and inventory reconciliation.',
    },
    ...(options.logger ? { logger: options.logger } : {}),
    readinessChecks: {
      postgres: databaseReadiness(ctx.db),
      redis: () => ctx.inventory.exists('readiness'),
      ...options.readinessChecks,
    },
  });
  await app.register(authPlugin, auth);
  registerBookingRoutes(app, ctx);
  registerInventoryRoutes(app, ctx);
  return app;
}
