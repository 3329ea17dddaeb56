import type { Role } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';
import type { FastifyRequest } from 'fastify';

/** The caller's role in an organization, or undefined when they are not a member. */
export type MembershipLookup = (orgId: string, userId: string) => Promise<Role | undefined>;

/**
 * preHandler (after `app.authenticate`): 404 for non-members, so another tenant's ids stay
 * unknowable, and 403 for members without one of `roles`.
 */
export function requireOrgRole(
  lookup: MembershipLookup,
  roles: readonly Role[],
  orgIdOf: (request: FastifyRequest) => string | undefined,
) {
  return async function orgRoleGuard(request: FastifyRequest): Promise<void> {
    const { principal } = request;
    if (!principal) throw new DomainError('UNAUTHENTICATED', 401, 'Missing bearer token.');
    const orgId = orgIdOf(request);
    const role = orgId === undefined ? undefined : await lookup(orgId, principal.sub);
    if (role === undefined)
      throw new DomainError('ORGANIZATION_NOT_FOUND', 404, 'No such organization.');
    if (!roles.includes(role)) {
      throw new DomainError(
        'FORBIDDEN',
        403,
        'Your role in this organization does not allow this.',
      );
    }
  };
}
