import { pageSchema } from '@happening/contracts';
import {
  type App,
  cursorBigint,
  decodeCursor,
  pageQuerySchema,
  toPage,
} from '@happening/service-kit';
import { z } from 'zod';
import { orgParamsSchema } from '../../shared/dto.schemas.ts';
import type { RouteDeps } from '../../shared/route-deps.ts';
import { listAudit } from './audit.repository.ts';

const auditSchema = z.object({
  id: z.string(),
  actorId: z.string().nullable(),
  action: z.string(),
  entityType: z.enum(['organization', 'membership', 'invite']),
  entityId: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  requestId: z.string().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
});

const cursorSchema = z.object({ id: cursorBigint });

export function registerAuditRoutes(app: App, { db, guards }: RouteDeps): void {
  app.get(
    '/v1/orgs/:orgId/audit',
    {
      schema: {
        params: orgParamsSchema,
        querystring: pageQuerySchema,
        response: { 200: pageSchema(auditSchema) },
      },
      preHandler: guards.orgAdmin,
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const before = cursor === undefined ? undefined : decodeCursor(cursor, cursorSchema).id;
      const rows = await listAudit(db, request.params.orgId, limit + 1, before);
      const page = toPage(rows, limit, (last) => ({ id: last.id }));
      return {
        items: page.items.map(({ organizationId: _org, createdAt, ...entry }) => ({
          ...entry,
          createdAt: createdAt.toISOString(),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
