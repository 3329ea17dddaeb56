import { requestIdSchema, roleSchema } from '@happening/contracts';
import { z } from 'zod';
import type { Membership } from '../modules/members/member.repository.ts';
import type { Organization } from '../modules/organizations/organization.repository.ts';
import type { User } from '../modules/users/user.repository.ts';

const timestamp = z.iso.datetime({ offset: true });

/** An empty 204 answer, so the OpenAPI document says 204 rather than a default 200. */
export const noContent = z.null().describe('No Content');

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  emailVerified: z.boolean(),
  name: z.string(),
  createdAt: timestamp,
});

export const organizationSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  domain: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  status: z.enum(['active', 'suspended']),
  ownerId: z.string(),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const membershipSchema = z.object({
  organizationId: z.uuid(),
  userId: z.string(),
  role: roleSchema,
  joinedAt: timestamp,
  /** Send it in `If-Match` to change the role. */
  version: z.number().int(),
});

export const orgParamsSchema = z.object({ orgId: requestIdSchema });

export const userDto = (user: User): z.infer<typeof userSchema> => ({
  id: user.id,
  email: user.email,
  emailVerified: user.emailVerified,
  name: user.fullName,
  createdAt: user.createdAt.toISOString(),
});

export const organizationDto = (org: Organization): z.infer<typeof organizationSchema> => ({
  id: org.id,
  name: org.name,
  slug: org.slug,
  domain: org.domain,
  settings: org.settings,
  status: org.status,
  ownerId: org.ownerId,
  version: org.version,
  createdAt: org.createdAt.toISOString(),
  updatedAt: org.updatedAt.toISOString(),
});

export const membershipDto = (m: Membership): z.infer<typeof membershipSchema> => ({
  organizationId: m.organizationId,
  userId: m.userId,
  role: m.role,
  joinedAt: m.joinedAt.toISOString(),
  version: m.version,
});
