import { z } from 'zod';
import { roleSchema } from '../roles.ts';

export const userRegisteredV1 = z.object({
  userId: z.string().min(1),
  email: z.email(),
  name: z.string(),
  phone: z.string().optional(),
});

export const organizationCreatedV1 = z.object({
  organizationId: z.uuid(),
  name: z.string().min(1),
  slug: z.string().min(1),
  ownerId: z.string().min(1),
});

/** Carries the accept link (with its single-use token) so the invite email can be sent. */
export const memberInvitedV1 = z.object({
  inviteId: z.uuid(),
  organizationId: z.uuid(),
  organizationName: z.string(),
  email: z.email(),
  role: roleSchema,
  invitedBy: z.string().min(1),
  acceptUrl: z.url(),
  expiresAt: z.iso.datetime({ offset: true }),
});

export const memberJoinedV1 = z.object({
  organizationId: z.uuid(),
  userId: z.string().min(1),
  role: roleSchema,
  inviteId: z.uuid().optional(),
});

export const memberRoleChangedV1 = z.object({
  organizationId: z.uuid(),
  userId: z.string().min(1),
  previousRole: roleSchema,
  role: roleSchema,
  changedBy: z.string().min(1),
});

export const memberRemovedV1 = z.object({
  organizationId: z.uuid(),
  userId: z.string().min(1),
  role: roleSchema,
  removedBy: z.string().min(1),
});
