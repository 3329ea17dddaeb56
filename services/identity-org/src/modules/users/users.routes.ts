import { pageSchema, roleSchema } from '@happening/contracts';
import {
  type App,
  cursorTimestamp,
  decodeCursor,
  pageQuerySchema,
  toPage,
} from '@happening/service-kit';
import { z } from 'zod';
import type { Db } from '../../shared/database.ts';
import {
  organizationDto,
  organizationSchema,
  userDto,
  userSchema,
} from '../../shared/dto.schemas.ts';
import type { RouteDeps } from '../../shared/route-deps.ts';
import { organizationsOfUser } from '../organizations/organization.repository.ts';

const myMembershipSchema = z.object({ organization: organizationSchema, role: roleSchema });

const meSchema = z.object({
  user: userSchema,
  /** The first page of `GET /v1/me/memberships`, oldest membership first. */
  memberships: z.array(myMembershipSchema),
  /** The `cursor` of `GET /v1/me/memberships` for the rest; null when this is all. */
  membershipsNextCursor: z.string().nullable(),
});

const cursorSchema = z.object({ joinedAt: cursorTimestamp, organizationId: z.uuid() });

// `/v1/me` shows as many memberships as a first page of `/v1/me/memberships` without `limit`, so
// its cursor continues exactly where it stops.
const ME_MEMBERSHIPS = pageQuerySchema.parse({}).limit;

async function myMemberships(db: Db, userId: string, limit: number, cursor?: string) {
  const after = cursor === undefined ? undefined : decodeCursor(cursor, cursorSchema);
  const rows = await organizationsOfUser(db, userId, limit + 1, after);
  const page = toPage(rows, limit, (last) => last.position);
  return {
    items: page.items.map((m) => ({ organization: organizationDto(m.organization), role: m.role })),
    nextCursor: page.nextCursor,
  };
}

export function registerUserRoutes(app: App, { db }: RouteDeps): void {
  app.get('/v1/me', { schema: { response: { 200: meSchema } } }, async (request) => {
    const page = await myMemberships(db, request.caller.id, ME_MEMBERSHIPS);
    return {
      user: userDto(request.caller),
      memberships: page.items,
      membershipsNextCursor: page.nextCursor,
    };
  });

  app.get(
    '/v1/me/memberships',
    {
      schema: {
        querystring: pageQuerySchema,
        response: { 200: pageSchema(myMembershipSchema) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      return myMemberships(db, request.caller.id, limit, cursor);
    },
  );
}
