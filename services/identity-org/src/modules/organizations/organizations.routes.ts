import {
  type App,
  answersWithEtag,
  answersWithLocation,
  idempotencyKeyHeadersSchema,
  ifMatchHeadersSchema,
  ifMatchVersion,
  withEtag,
} from '@happening/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  membershipDto,
  membershipSchema,
  organizationDto,
  organizationSchema,
  orgParamsSchema,
  userDto,
  userSchema,
} from '../../shared/dto.schemas.ts';
import { replyIdempotently } from '../../shared/idempotency.ts';
import { actorOf, type RouteDeps } from '../../shared/route-deps.ts';
import type { Membership } from '../members/member.repository.ts';
import { changeOrganization, createOrganization } from './organization.commands.ts';
import { findOrganization, type Organization } from './organization.repository.ts';

const orgName = z.string().trim().min(1).max(200);

const createdSchema = z.object({
  user: userSchema,
  organization: organizationSchema,
  membership: membershipSchema,
});

const patchBodySchema = z
  .strictObject({
    name: orgName.optional(),
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .regex(
        /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        'must be a domain name',
      )
      .nullable()
      .optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'name, domain or settings is required');

export function registerOrganizationRoutes(app: App, deps: RouteDeps): void {
  const { db, guards } = deps;

  const create = (request: FastifyRequest, reply: FastifyReply, name: string) =>
    replyIdempotently(
      db,
      request,
      reply,
      async (keep) => {
        const answer = (created: { organization: Organization; membership: Membership }) => ({
          statusCode: 201,
          body: {
            user: userDto(request.caller),
            organization: organizationDto(created.organization),
            membership: membershipDto(created.membership),
          },
        });
        // The key's answer is stored in the creating transaction: committed together or not at all.
        return answer(
          await createOrganization(
            db,
            actorOf(request),
            name,
            deps.organizationsPerOwner,
            (trx, created) => keep(trx, answer(created)),
          ),
        );
      },
      (created: { organization: { id: string } }) => `/v1/orgs/${created.organization.id}`,
    );

  app.post(
    '/v1/signup',
    {
      schema: {
        ...answersWithLocation,
        headers: idempotencyKeyHeadersSchema,
        body: z.strictObject({ organizationName: orgName }),
        response: { 201: createdSchema },
      },
    },
    async (request, reply) => create(request, reply, request.body.organizationName),
  );

  app.post(
    '/v1/orgs',
    {
      schema: {
        ...answersWithLocation,
        headers: idempotencyKeyHeadersSchema,
        body: z.strictObject({ name: orgName }),
        response: { 201: createdSchema },
      },
    },
    async (request, reply) => create(request, reply, request.body.name),
  );

  app.get(
    '/v1/orgs/:orgId',
    {
      schema: {
        ...answersWithEtag,
        params: orgParamsSchema,
        response: { 200: organizationSchema },
      },
      preHandler: guards.member,
    },
    async (request, reply) => {
      const organization = (await findOrganization(db, request.params.orgId))!;
      return withEtag(reply, organizationDto(organization));
    },
  );

  app.patch(
    '/v1/orgs/:orgId',
    {
      schema: {
        headers: ifMatchHeadersSchema,
        params: orgParamsSchema,
        body: patchBodySchema,
        response: { 200: organizationSchema },
      },
      preHandler: guards.orgAdmin,
    },
    async (request, reply) => {
      const organization = await changeOrganization(
        db,
        actorOf(request),
        request.params.orgId,
        ifMatchVersion(request),
        request.body,
      );
      return withEtag(reply, organizationDto(organization));
    },
  );
}
