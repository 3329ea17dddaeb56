import { z } from 'zod';
import { emailAddressSchema } from '../http.ts';
import { roleSchema } from '../roles.ts';
import type { SealedBox } from '../sealed-box.ts';

export const userRegisteredV1 = z.object({
  userId: z.string().min(1),
  email: emailAddressSchema,
  name: z.string(),
  phone: z.string().optional(),
  /**
   * Whether the identity provider verified `email`. Optional, so version 1 still parses the
   * messages published before it was added; consumers take its absence as not verified.
   */
  emailVerified: z.boolean().optional(),
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
  email: emailAddressSchema,
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
  /**
   * False when the address has been mailed as many invites as it may be in a day: no email is
   * sent for it. Optional, so older messages still parse; absent means mailed. Bound to the sealed
   * link when false, so a message stripped of it (by a consumer that does not know the field, or
   * anyone between) does not open the link, and is not mailed.
   */
  mailed: z.boolean().optional(),
});

/** What a member_invited says besides its link: all of it is bound to the sealed link. */
export type InviteFacts = Omit<z.infer<typeof memberInvitedV2>, 'sealedAcceptUrl'>;

/**
 * The GCM additional data of a sealed link: every fact of the invite, so a captured link replayed
 * in an event with another address, organization or role does not open. `mailed: false` is bound
 * too; a mailed invite's facts are those sealed before the field existed.
 */
function inviteLinkContext(invite: InviteFacts): string {
  return JSON.stringify([
    'identity.member_invited',
    invite.inviteId,
    invite.organizationId,
    invite.organizationName,
    invite.email,
    invite.role,
    invite.invitedBy,
    invite.expiresAt,
    ...(invite.mailed === false ? ['unmailed'] : []),
  ]);
}

/** Seals an invite's accept link for member_invited, bound to the invite's facts. */
export function sealInviteLink(box: SealedBox, invite: InviteFacts, acceptUrl: string): string {
  return box.seal(acceptUrl, inviteLinkContext(invite));
}

/** Opens `sealedAcceptUrl`; throws when sealed under another key or for other facts. */
export function openInviteLink(
  box: SealedBox,
  invite: InviteFacts & { sealedAcceptUrl: string },
): string {
  return box.open(invite.sealedAcceptUrl, inviteLinkContext(invite));
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
