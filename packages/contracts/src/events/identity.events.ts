import { z } from 'zod';
import { roleSchema } from '../roles.ts';
import type { SealedBox } from '../sealed-box.ts';

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

/**
 * Version 1 carried the accept link, with its single-use token, in clear: every outbox row, broker
 * and subscriber held it. Still parsed, for messages published before version 2.
 */
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

/**
 * Carries the accept link sealed for notification (`sealInviteLink`), so only the holder of the
 * invite-link key can mail it; everyone else sees ciphertext.
 */
export const memberInvitedV2 = memberInvitedV1.omit({ acceptUrl: true }).extend({
  sealedAcceptUrl: z.base64().min(1),
});

/** Seals an invite's accept link for member_invited, bound to the invite (GCM additional data). */
export function sealInviteLink(box: SealedBox, inviteId: string, acceptUrl: string): string {
  return box.seal(acceptUrl, inviteId);
}

/** Opens `sealedAcceptUrl`; throws when sealed under another key or for another invite. */
export function openInviteLink(box: SealedBox, inviteId: string, sealedAcceptUrl: string): string {
  return box.open(sealedAcceptUrl, inviteId);
}

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
