import type { Role } from '@happening/contracts';

/** Whether a role in an organization is staff there: an organizer or an orgAdmin. */
export const isStaff = (role: Role | undefined) => role === 'organizer' || role === 'orgAdmin';
