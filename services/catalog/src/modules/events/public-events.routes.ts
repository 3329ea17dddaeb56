import { type App, answersWithEtag, withEtag } from '@happening/service-kit';
import type { CatalogDeps } from '../../app.deps.ts';
import { callerOf } from './event.caller.ts';
import { getEvent, getPublicEvents } from './event.queries.ts';
import {
  eventPageSchema,
  eventParamsSchema,
  eventSchema,
  publicEventsQuerySchema,
} from './event.schemas.ts';

/** `GET /v1/events` (listing and search) and `GET /v1/events/{eventId}`. */
export function registerPublicEventRoutes(app: App, deps: CatalogDeps): void {
  app.get(
    '/v1/events',
    {
      onRequest: app.authenticate,
      schema: { querystring: publicEventsQuerySchema, response: { 200: eventPageSchema } },
    },
    async (request) => getPublicEvents(deps, callerOf(request), request.query),
  );

  app.get(
    '/v1/events/:eventId',
    {
      onRequest: app.authenticate,
      schema: { ...answersWithEtag, params: eventParamsSchema, response: { 200: eventSchema } },
    },
    async (request, reply) =>
      withEtag(reply, await getEvent(deps, callerOf(request), request.params.eventId)),
  );
}
