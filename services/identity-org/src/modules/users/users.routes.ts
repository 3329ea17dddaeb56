import { roleSchema } from '@happening/contracts';
import type { App } from '@happening/service-kit';
import { z } from 'zod';
import {
  organizationDto,
  organizationSchema,
  userDto,
  userSchema,
} from '../../shared/dto.schemas.ts';
import type { RouteDeps } from '../../shared/route-deps.ts';
import { organizationsOfUser } from '../organizations/organization.repository.ts';

const meSchema = z.object({
  user: userSchema,
  memberships: z.array(z.object({ organization: organizationSchema, role: roleSchema })),
});

export function registerUserRoutes(app: App, { db }: RouteDeps): void {
  app.get('/v1/me', { schema: { response: { 200: meSchema } } }, async (request) => {
    const memberships = await organizationsOfUser(db, request.caller.id);
    return {
      user: userDto(request.caller),
      memberships: memberships.map((m) => ({
        organization: organizationDto(m.organization),
        role: m.role,
      })),
    };
  });
}
