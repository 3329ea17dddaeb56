import { z } from 'zod';

/** Per-organization roles: orgAdmin runs the org, organizer runs events, user books. */
export const ROLES = ['orgAdmin', 'organizer', 'user'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;
