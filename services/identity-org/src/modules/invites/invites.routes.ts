import { emailAddressSchema, pageSchema, requestIdSchema, roleSchema } from '@happening/contracts';
import {
  type App,
  answersWithLocation,
  cursorTimestamp,
  DomainError,
  decodeCursor,
  pageQuerySchema,
  toPage,
} from '@happening/service-kit';
import { z } from 'zod';
import {
  membershipDto,
  membershipSchema,
  noContent,
  orgParamsSchema,
} from '../../shared/dto.schemas.ts';
import { actorOf, type RouteDeps } from '../../shared/route-deps.ts';
import { acceptInvite, createInvite, revokeInvite } from './invite.commands.ts';
import { effectiveStatus } from './invite.policy.ts';
import { databaseNow, findInvite, type Invite, listInvites } from './invite.repository.ts';

const timestamp = z.iso.datetime({ offset: true });

const inviteSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: roleSchema,
  status: z.enum(['pending', 'accepted', 'expired', 'revoked']),
  invitedBy: z.string(),
  expiresAt: timestamp,
  acceptedBy: z.string().nullable(),
  acceptedAt: timestamp.nullable(),
  /** False when no email announced it (see `mailed` of the invite as created). */
  mailed: z.boolean(),
  createdAt: timestamp,
});

const createdInviteSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: roleSchema,
  expiresAt: timestamp,
  /** Shown only in this answer and in the invite email. */
  token: z.string(),
  /**
   * False when the address has been mailed as many invites as it may be in 24 hours, by all
   * organizations together: no email goes out, and the token reaches the invitee only if the
   * orgAdmin hands it over.
   */
  mailed: z.boolean(),
});

const cursorSchema = z.object({ createdAt: cursorTimestamp, id: z.uuid() });

const inviteDto = (invite: Invite, now: Date): z.infer<typeof inviteSchema> => ({
  id: invite.id,
  email: invite.email,
  role: invite.role,
  status: effectiveStatus(invite.status, invite.expiresAt, now),
  invitedBy: invite.invitedBy,
  expiresAt: invite.expiresAt.toISOString(),
  acceptedBy: invite.acceptedBy,
  acceptedAt: invite.acceptedAt?.toISOString() ?? null,
  mailed: invite.mailed,
  createdAt: invite.createdAt.toISOString(),
});

export function registerInviteRoutes(app: App, { db, guards, invites }: RouteDeps): void {
  app.post(
    '/v1/orgs/:orgId/invites',
    {
      schema: {
        ...answersWithLocation,
        description:
          'Invites an address (orgAdmin); a pending invite to it is superseded. 409 ' +
          'ALREADY_MEMBER when a member holds the address. 429 INVITE_LIMIT, with Retry-After ' +
          '(seconds), once the organization has created INVITES_PER_ADDRESS_PER_DAY invites ' +
          'for the address (default 3) or INVITES_PER_ORG_PER_DAY in all (default 200), ' +
          'in the last 24 hours, whatever became of them. Created but not mailed (mailed: ' +
          'false) once all organizations together have had INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS ' +
          'invites (default 10) mailed to the address in the last 24 hours.',
        params: orgParamsSchema,
        body: z.strictObject({ email: emailAddressSchema, role: roleSchema }),
        response: { 201: createdInviteSchema },
      },
      preHandler: guards.orgAdmin,
    },
    async (request, reply) => {
      const { invite, token } = await createInvite(db, actorOf(request), invites, {
        organizationId: request.params.orgId,
        email: request.body.email,
        role: request.body.role,
      });
      reply.header('location', `/v1/orgs/${invite.organizationId}/invites/${invite.id}`);
      return reply.status(201).send({
        id: invite.id,
        email: invite.email,
        role: invite.role,
        expiresAt: invite.expiresAt.toISOString(),
        token,
        mailed: invite.mailed,
      });
    },
  );

  app.get(
    '/v1/orgs/:orgId/invites',
    {
      schema: {
        params: orgParamsSchema,
        querystring: pageQuerySchema,
        response: { 200: pageSchema(inviteSchema) },
      },
      preHandler: guards.orgAdmin,
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const before = cursor === undefined ? undefined : decodeCursor(cursor, cursorSchema);
      const rows = await listInvites(db, request.params.orgId, limit + 1, before);
      const page = toPage(rows, limit, (last) => last.position);
      const now = await databaseNow(db);
      return { items: page.items.map((i) => inviteDto(i, now)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/orgs/:orgId/invites/:inviteId',
    {
      schema: {
        description:
          "One of the organization's invites (orgAdmin), where a created invite's Location " +
          'points. 404 INVITE_NOT_FOUND for an id the organization has no invite under.',
        params: orgParamsSchema.extend({ inviteId: requestIdSchema }),
        response: { 200: inviteSchema },
      },
      preHandler: guards.orgAdmin,
    },
    async (request) => {
      const invite = await findInvite(db, request.params.orgId, request.params.inviteId);
      if (invite === undefined) throw new DomainError('INVITE_NOT_FOUND', 404, 'No such invite.');
      return inviteDto(invite, await databaseNow(db));
    },
  );

  app.delete(
    '/v1/orgs/:orgId/invites/:inviteId',
    {
      schema: {
        params: orgParamsSchema.extend({ inviteId: requestIdSchema }),
        response: { 204: noContent },
      },
      preHandler: guards.orgAdmin,
    },
    async (request, reply) => {
      await revokeInvite(db, actorOf(request), request.params.orgId, request.params.inviteId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/invites/accept',
    {
      schema: {
        body: z.strictObject({ token: z.string().min(1).max(200) }),
        response: { 200: z.object({ membership: membershipSchema }) },
      },
    },
    async (request) => {
      // The address identity-org holds: the newest token's, not that of an older token still
      // valid after its holder moved to another address (see the caller hook).
      const { caller } = request;
      const membership = await acceptInvite(
        db,
        actorOf(request),
        { email: caller.email, emailVerified: caller.emailVerified },
        request.body.token,
      );
      return { membership: membershipDto(membership) };
    },
  );
}
