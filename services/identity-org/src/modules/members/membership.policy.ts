import type { Role } from '@happening/contracts';
import { DomainError } from '@happening/service-kit';

/**
 * An organization always keeps an orgAdmin: refuses to demote or remove the last one.
 * `adminCount` must be read while the organization row is locked, or two concurrent demotions
 * could each see the other admin and both succeed.
 */
export function assertKeepsAnAdmin(
  current: Role,
  next: Role | 'removed',
  adminCount: number,
): void {
  if (current === 'orgAdmin' && next !== 'orgAdmin' && adminCount <= 1) {
    throw new DomainError(
      'LAST_ORG_ADMIN',
      409,
      'An organization needs at least one orgAdmin: promote someone else first.',
    );
  }
}

/** orgAdmins may remove anyone; every member may leave on their own. */
export function mayRemoveMember(callerId: string, callerRole: Role, targetId: string): boolean {
  return callerRole === 'orgAdmin' || callerId === targetId;
}
