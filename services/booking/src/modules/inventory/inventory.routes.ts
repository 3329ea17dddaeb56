import { type App, DomainError, decodeCursor, toPage } from '@happening/service-kit';
import { z } from 'zod';
import type { BookingContext } from '../../context.ts';
import { bookedSeats } from '../booking/booking.repository.ts';
import {
  availabilitySchema,
  eventParamsSchema,
  seatsCursorSchema,
  seatsQuerySchema,
  seatsSchema,
} from '../booking/booking.schemas.ts';
import { eventOfMember, visibleEvent } from './event-access.ts';
import { findEvent } from './event-inventory.repository.ts';
import { rebuildForRequest, reconcileEvent } from './reconcile.service.ts';

export function registerInventoryRoutes(app: App, ctx: BookingContext): void {
  app.get(
    '/v1/events/:eventId/availability',
    {
      onRequest: app.authenticate,
      schema: { params: eventParamsSchema, response: { 200: availabilitySchema } },
    },
    async (request) => {
      const event = await visibleEvent(ctx.db, request.params.eventId, request.principal.sub);
      let figures = await ctx.inventory.availability(event.eventId, event.redisGeneration);
      if (!figures && ['upcoming', 'ongoing'].includes(event.status)) {
        await rebuildForRequest(ctx, event.eventId, {
          correlationId: request.id,
          onlyIfMissing: true,
        });
        // The rebuild recorded a generation of its own.
        const rebuilt = await findEvent(ctx.db, event.eventId);
        figures =
          rebuilt && (await ctx.inventory.availability(event.eventId, rebuilt.redisGeneration));
      }
      return figures ?? { totalSlots: event.totalSlots, availableSlots: 0, waitlistLength: 0 };
    },
  );

  app.get(
    '/v1/events/:eventId/seats',
    {
      onRequest: app.authenticate,
      schema: {
        params: eventParamsSchema,
        querystring: seatsQuerySchema,
        response: { 200: seatsSchema },
      },
    },
    async (request) => {
      const event = await visibleEvent(ctx.db, request.params.eventId, request.principal.sub);
      const { limit, cursor } = request.query;
      const seats = await bookedSeats(ctx.db, event.eventId, {
        limit,
        afterSeat: cursor ? decodeCursor(cursor, seatsCursorSchema).seatNo : undefined,
      });
      const page = toPage(seats, limit, (last) => ({ seatNo: last }));
      return { bookedSeats: page.items, nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/events/:eventId/reconcile',
    {
      onRequest: app.authenticate,
      schema: {
        params: eventParamsSchema,
        response: { 200: z.object({ eventId: z.uuid(), promoted: z.number().int() }) },
      },
    },
    async (request) => {
      const { event, role } = await eventOfMember(
        ctx,
        request.params.eventId,
        request.principal.sub,
      );
      if (role !== 'orgAdmin') throw new DomainError('FORBIDDEN', 403, 'orgAdmins only.');
      const { promoted } = await reconcileEvent(ctx, event.eventId, { correlationId: request.id });
      return { eventId: event.eventId, promoted: promoted.length };
    },
  );
}
