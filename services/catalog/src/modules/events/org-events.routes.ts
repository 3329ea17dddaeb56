import { createHash } from 'node:crypto';
import { withIdempotencyKey } from '@happening/db';
import type { App } from '@happening/service-kit';
import { z } from 'zod';
import type { CatalogDeps } from '../../app.deps.ts';
import { callerOf } from './event.caller.ts';
import { createEvent } from './event.commands.ts';
import { getOrgEvents } from './event.queries.ts';
import { toRepresentation } from './event.representation.ts';
import {
  createEventBodySchema,
  eventPageSchema,
  eventSchema,
  orgEventsQuerySchema,
  orgParamsSchema,
} from './event.schemas.ts';

const createHeadersSchema = z.object({
  'idempotency-key': z.string().min(1).max(200).optional(),
});

/** `/v1/orgs/{orgId}/events`: create drafts (organizers, admins) and list an org's events (members). */
export function registerOrgEventRoutes(app: App, deps: CatalogDeps): void {
  app.post(
    '/v1/orgs/:orgId/events',
    {
      onRequest: app.authenticate,
      schema: {
        params: orgParamsSchema,
        headers: createHeadersSchema,
        body: createEventBodySchema,
        response: { 201: eventSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { orgId } = request.params;
      const { body } = request;
      const create = async () => {
        const { event, figures } = await createEvent(deps, caller, orgId, {
          ...body,
          startsAt: new Date(body.startsAt),
          endsAt: new Date(body.endsAt),
        });
        return { statusCode: 201, body: toRepresentation(event, figures) };
      };
      const key = request.headers['idempotency-key'];
      const response =
        key === undefined
          ? await create()
          : await withIdempotencyKey(
              deps.db,
              {
                scope: `POST /v1/orgs/${orgId}/events ${caller.userId}`,
                key,
                fingerprint: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
              },
              create,
            );
      return reply
        .status(response.statusCode as 201)
        .send(response.body as z.infer<typeof eventSchema>);
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
