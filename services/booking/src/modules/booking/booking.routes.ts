import { type KeepResponse, runIdempotently } from '@happening/db';
import {
  type App,
  answersWithLocation,
  DomainError,
  decodeCursor,
  idempotencyKeyHeadersSchema,
  idempotentRequestOf,
  sendIdempotent,
  toPage,
} from '@happening/service-kit';
import { z } from 'zod';
import type { BookingContext } from '../../context.ts';
import { eventOfMember } from '../inventory/event-access.ts';
import { isStaff } from '../memberships/membership.policy.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { bookSeats } from './book.command.ts';
import { visibleBooking } from './booking.access.ts';
import { bookingNotFound } from './booking.policy.ts';
import {
  findBooking,
  historyOf,
  type ListFilter,
  type ListPage,
  listBookings,
} from './booking.repository.ts';
import {
  bookingPageSchema,
  bookingParamsSchema,
  bookingSchema,
  cancelBookingBodySchema,
  createBookingBodySchema,
  eventParamsSchema,
  historyEntrySchema,
  listCursorSchema,
  listQuerySchema,
} from './booking.schemas.ts';
import { readViews } from './booking.views.ts';
import { cancelBooking } from './cancel.command.ts';

async function viewOf(ctx: BookingContext, bookingId: string) {
  const [view] = await readViews(ctx, async (db) => {
    const row = await findBooking(db, bookingId);
    if (!row) throw bookingNotFound();
    return [row];
  });
  return view!;
}

/** A page of bookings with their views (see `readViews`). */
async function viewPage(ctx: BookingContext, filter: ListFilter, page: ListPage) {
  const read = { nextCursor: null as string | null };
  const items = await readViews(ctx, async (db) => {
    const rows = await listBookings(db, filter, page);
    const onePage = toPage(rows, page.limit, (last) => ({
      createdAt: last.created_at_text,
      id: last.id,
    }));
    read.nextCursor = onePage.nextCursor;
    return onePage.items;
  });
  return { items, nextCursor: read.nextCursor };
}

export function registerBookingRoutes(app: App, ctx: BookingContext): void {
  app.post(
    '/v1/events/:eventId/bookings',
    {
      onRequest: app.authenticate,
      schema: {
        ...answersWithLocation,
        params: eventParamsSchema,
        body: createBookingBodySchema,
        headers: idempotencyKeyHeadersSchema,
        response: { 201: bookingSchema },
      },
    },
    async (request, reply) => {
      const { eventId } = request.params;
      const userId = request.principal.sub;
      const idempotent = idempotentRequestOf(request, userId);
      // Passed inline, not named: tsx keeps function names, and naming a closure on every
      // request costs a property definition each time (~1 % of a booking's CPU, profiled).
      const result = await runIdempotently(ctx.db, idempotent, async (keep: KeepResponse) => {
        const booking = await bookSeats(ctx, {
          eventId,
          userId,
          seats: request.body.seats,
          seatNumbers: request.body.seatNumbers,
          correlationId: request.id,
          // Without a key there is nothing to keep (and no `now()` to read for it).
          keep: idempotent.key === undefined ? undefined : keep,
        });
        return { statusCode: 201, body: booking };
      });
      return sendIdempotent(
        reply,
        result,
        (booking: { id: string }) => `/v1/bookings/${booking.id}`,
      );
    },
  );

  app.post(
    '/v1/bookings/:bookingId/cancel',
    {
      onRequest: app.authenticate,
      schema: {
        params: bookingParamsSchema,
        body: cancelBookingBodySchema,
        response: { 200: bookingSchema },
      },
    },
    async (request) => {
      await cancelBooking(ctx, {
        bookingId: request.params.bookingId,
        callerId: request.principal.sub,
        correlationId: request.id,
        note: request.body?.note,
      });
      return viewOf(ctx, request.params.bookingId);
    },
  );

  app.get(
    '/v1/bookings/:bookingId',
    {
      onRequest: app.authenticate,
      schema: { params: bookingParamsSchema, response: { 200: bookingSchema } },
    },
    async (request) => {
      const [view] = await readViews(ctx, async (db) => [
        await visibleBooking(db, request.params.bookingId, request.principal.sub),
      ]);
      return view!;
    },
  );

  app.get(
    '/v1/bookings/:bookingId/history',
    {
      onRequest: app.authenticate,
      schema: {
        params: bookingParamsSchema,
        response: { 200: z.object({ items: z.array(historyEntrySchema) }) },
      },
    },
    async (request) => {
      const callerId = request.principal.sub;
      const booking = await visibleBooking(ctx.db, request.params.bookingId, callerId);
      const staff =
        booking.user_id !== callerId || isStaff(await roleOf(ctx.db, booking.org_id, callerId));
      const rows = await historyOf(ctx.db, request.params.bookingId);
      return {
        items: rows.map((r) => ({
          version: r.version,
          action: r.action,
          details: shownDetails(r.details as Record<string, unknown>, { staff, callerId }),
          occurredAt: r.occurred_at.toISOString(),
        })),
      };
    },
  );

  app.get(
    '/v1/me/bookings',
    {
      onRequest: app.authenticate,
      schema: { querystring: listQuerySchema, response: { 200: bookingPageSchema } },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const after = cursor ? decodeCursor(cursor, listCursorSchema) : undefined;
      return viewPage(
        ctx,
        { userId: request.principal.sub, ...(status ? { status } : {}) },
        {
          limit,
          after,
        },
      );
    },
  );

  app.get(
    '/v1/events/:eventId/bookings',
    {
      onRequest: app.authenticate,
      schema: {
        params: eventParamsSchema,
        querystring: listQuerySchema,
        response: { 200: bookingPageSchema },
      },
    },
    async (request) => {
      const { event, role } = await eventOfMember(
        ctx,
        request.params.eventId,
        request.principal.sub,
      );
      if (!isStaff(role)) throw new DomainError('FORBIDDEN', 403, 'Organizers and orgAdmins only.');
      const { limit, cursor, status } = request.query;
      const after = cursor ? decodeCursor(cursor, listCursorSchema) : undefined;
      return viewPage(
        ctx,
        { eventId: event.eventId, ...(status ? { status } : {}) },
        {
          limit,
          after,
        },
      );
    },
  );
}

/**
 * An entry's details as its reader sees them: without `acceptedSeq`, the event's running count
 * of accepted requests (cancelled ones too), which audits use and which would tell a booker how
 * busy the sale is beyond what the availability shows. A booker who is not staff of the event's
 * organization sees who cancelled only when it was themselves: the reason says an organizer did,
 * and their account id is the organization's to know.
 */
function shownDetails(
  details: Record<string, unknown>,
  reader: { staff: boolean; callerId: string },
): Record<string, unknown> {
  const { acceptedSeq: _internal, cancelledBy, ...shown } = details;
  if (cancelledBy === undefined || (!reader.staff && cancelledBy !== reader.callerId)) return shown;
  return { ...shown, cancelledBy };
}
