import type { DomainEvent, Role } from '@happening/contracts';
import { projectMembership } from '@happening/db';
import type { Executor } from '../../database.ts';

export type MembershipEvent = Extract<
  DomainEvent,
  { type: 'identity.member_joined' | 'identity.member_role_changed' | 'identity.member_removed' }
>;

/** The role a membership event leaves the member with (null: no longer a member). */
export function roleAfter(event: MembershipEvent): Role | null {
  switch (event.type) {
    case 'identity.member_joined':
    case 'identity.member_role_changed':
      return event.data.role;
    case 'identity.member_removed':
      return null;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/**
 * Applies a membership event unless a later event of the organization was applied already, so
 * replays and late deliveries leave the projection as the newest event made it.
 */
export async function applyMembershipEvent(db: Executor, event: MembershipEvent): Promise<void> {
  await projectMembership(db, {
    organizationId: event.data.organizationId,
    userId: event.data.userId,
    role: roleAfter(event),
    version: event.aggregate.version,
  });
}
