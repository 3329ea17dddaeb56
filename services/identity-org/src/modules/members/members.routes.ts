import { pageSchema, roleSchema } from '@happening/contracts';
import {
  type App,
  cursorTimestamp,
  decodeCursor,
  ifMatchHeadersSchema,
  ifMatchVersion,
  pageQuerySchema,
  toPage,
  withEtag,
} from '@happening/service-kit';
import { z } from 'zod';
import {
  membershipDto,
  membershipSchema,
  noContent,
  orgParamsSchema,
} from '../../shared/dto.schemas.ts';
import { actorOf, type RouteDeps } from '../../shared/route-deps.ts';
import { changeMemberRole, removeMember } from './member.commands.ts';
import { listMembers } from './member.repository.ts';

const memberSchema = membershipSchema.extend({ email: z.string(), name: z.string() });
// User ids are Keycloak subjects, which Keycloak writes as lower-case UUIDs: a UUID is matched
// in any case, as orgId is; any other id is taken as it is.
const userIdSchema = z
  .string()
  .min(1)
  .max(255)
  .overwrite((id) => (z.uuid().safeParse(id).success ? id.toLowerCase() : id));
const memberParamsSchema = orgParamsSchema.extend({ userId: userIdSchema });
const cursorSchema = z.object({ joinedAt: cursorTimestamp, userId: z.string() });

export function registerMemberRoutes(app: App, { db, guards }: RouteDeps): void {
  app.get(
    '/v1/orgs/:orgId/members',
    {
      schema: {
        params: orgParamsSchema,
        querystring: pageQuerySchema,
        response: { 200: pageSchema(memberSchema) },
      },
      preHandler: guards.member,
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor, cursorSchema);
      const rows = await listMembers(db, request.params.orgId, limit + 1, after);
      const page = toPage(rows, limit, (last) => last.position);
      return {
        items: page.items.map((m) => ({ ...membershipDto(m), email: m.email, name: m.name })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.patch(
    '/v1/orgs/:orgId/members/:userId',
    {
      schema: {
        headers: ifMatchHeadersSchema,
        params: memberParamsSchema,
        body: z.strictObject({ role: roleSchema }),
        response: { 200: membershipSchema },
      },
      preHandler: guards.orgAdmin,
    },
    async (request, reply) => {
      const { orgId, userId } = request.params;
      const membership = await changeMemberRole(
        db,
        actorOf(request),
        orgId,
        userId,
        ifMatchVersion(request),
        request.body.role,
      );
      return withEtag(reply, membershipDto(membership));
    },
  );

  app.delete(
    '/v1/orgs/:orgId/members/:userId',
    {
      schema: { params: memberParamsSchema, response: { 204: noContent } },
      preHandler: guards.member,
    },
    async (request, reply) => {
      const { orgId, userId } = request.params;
      // Members may leave on their own; removing someone else is checked as orgAdmin under the lock.
      await removeMember(db, actorOf(request), orgId, userId);
      return reply.status(204).send(null);
    },
  );
}
