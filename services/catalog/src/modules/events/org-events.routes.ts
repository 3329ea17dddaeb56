import { type KeepResponse, runIdempotently } from '@happening/db';
import {
  type App,
  answersWithLocation,
  idempotencyKeyHeadersSchema,
  idempotentRequestOf,
  sendIdempotent,
} from '@happening/service-kit';
import type { CatalogDeps } from '../../app.deps.ts';
import { callerOf } from './event.caller.ts';
import { assertMayCreateEvents, createEvent } from './event.commands.ts';
import { getOrgEvents } from './event.queries.ts';
import { toRepresentation } from './event.representation.ts';
import {
  createEventBodySchema,
  eventPageSchema,
  eventSchema,
  orgEventsQuerySchema,
  orgParamsSchema,
} from './event.schemas.ts';
import type { ListedEvent } from './event-listing.repository.ts';

/** `/v1/orgs/{orgId}/events`: create drafts (organizers, admins) and list an org's events (members). */
export function registerOrgEventRoutes(app: App, deps: CatalogDeps): void {
  app.post(
    '/v1/orgs/:orgId/events',
    {
      onRequest: app.authenticate,
      schema: {
        ...answersWithLocation,
        params: orgParamsSchema,
        headers: idempotencyKeyHeadersSchema,
        body: createEventBodySchema,
        response: { 201: eventSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { orgId } = request.params;
      const { body } = request;
      const answer = ({ event, figures }: ListedEvent) => ({
        statusCode: 201,
        body: toRepresentation(event, figures, deps.clock()),
      });
      // The key's answer is stored in the creating transaction: committed together or not at all.
      const create = async (keep: KeepResponse) =>
        answer(
          await createEvent(
            deps,
            caller,
            orgId,
            { ...body, startsAt: new Date(body.startsAt), endsAt: new Date(body.endsAt) },
            (trx, created) => keep(trx, answer(created)),
          ),
        );
      await assertMayCreateEvents(deps, caller, orgId);
      const response = await runIdempotently(
        deps.db,
        idempotentRequestOf(request, caller.userId),
        create,
      );
      return sendIdempotent(reply, response, (event: { id: string }) => `/v1/events/${event.id}`);
    },
  );

  app.get(
    '/v1/orgs/:orgId/events',
    {
      onRequest: app.authenticate,
      schema: {
        params: orgParamsSchema,
        querystring: orgEventsQuerySchema,
        response: { 200: eventPageSchema },
      },
    },
    async (request) => getOrgEvents(deps, callerOf(request), request.params.orgId, request.query),
  );
}
