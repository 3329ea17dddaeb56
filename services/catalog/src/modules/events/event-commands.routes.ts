import {
  type App,
  answersWithEtag,
  ifMatchHeadersSchema,
  ifMatchVersion,
  withEtag,
} from '@happening/service-kit';
import type { CatalogDeps } from '../../app.deps.ts';
import { callerOf } from './event.caller.ts';
import { cancelEvent, patchEvent, publishEvent } from './event.commands.ts';
import type { EventPatch } from './event.model.ts';
import { toRepresentation } from './event.representation.ts';
import {
  cancelEventBodySchema,
  eventParamsSchema,
  eventSchema,
  patchEventBodySchema,
  publishEventBodySchema,
} from './event.schemas.ts';
import type { ListedEvent } from './event-listing.repository.ts';

/** PATCH, publish and cancel: organizers and admins of the event's org. */
export function registerEventCommandRoutes(app: App, deps: CatalogDeps): void {
  const present = ({ event, figures }: ListedEvent) =>
    toRepresentation(event, figures, deps.clock());

  app.patch(
    '/v1/events/:eventId',
    {
      onRequest: app.authenticate,
      schema: {
        headers: ifMatchHeadersSchema,
        params: eventParamsSchema,
        body: patchEventBodySchema,
        response: { 200: eventSchema },
      },
    },
    async (request, reply) => {
      const { startsAt, endsAt, ...rest } = request.body;
      const patch: EventPatch = {
        ...rest,
        ...(startsAt !== undefined ? { startsAt: new Date(startsAt) } : {}),
        ...(endsAt !== undefined ? { endsAt: new Date(endsAt) } : {}),
      };
      const expected = () => ifMatchVersion(request);
      const event = present(
        await patchEvent(deps, callerOf(request), request.params.eventId, expected, patch),
      );
      return withEtag(reply, event);
    },
  );

  app.post(
    '/v1/events/:eventId/publish',
    {
      onRequest: app.authenticate,
      schema: {
        ...answersWithEtag,
        params: eventParamsSchema,
        body: publishEventBodySchema,
        response: { 200: eventSchema },
      },
    },
    async (request, reply) =>
      withEtag(reply, present(await publishEvent(deps, callerOf(request), request.params.eventId))),
  );

  app.post(
    '/v1/events/:eventId/cancel',
    {
      onRequest: app.authenticate,
      schema: {
        ...answersWithEtag,
        params: eventParamsSchema,
        body: cancelEventBodySchema,
        response: { 200: eventSchema },
      },
    },
    async (request, reply) =>
      withEtag(
        reply,
        present(
          await cancelEvent(deps, callerOf(request), request.params.eventId, request.body.reason),
        ),
      ),
  );
}
