import { requireOrgRole } from '@happening/auth';
import { ROLES, type Role } from '@happening/contracts';
import type { FastifyRequest } from 'fastify';
import { roleOf } from '../modules/members/member.repository.ts';
import type { Db } from './database.ts';

const orgIdOf = (request: FastifyRequest) => (request.params as { orgId: string }).orgId;

/** preHandlers guarding `/v1/orgs/{orgId}/...`: non-members get 404, members without the role 403. */
export function orgGuards(db: Db) {
  const lookup = (orgId: string, userId: string): Promise<Role | undefined> =>
    roleOf(db, orgId, userId);
  return {
    member: requireOrgRole(lookup, ROLES, orgIdOf),
    orgAdmin: requireOrgRole(lookup, ['orgAdmin'], orgIdOf),
  };
}

export type OrgGuards = ReturnType<typeof orgGuards>;
