import type { Role } from '@happening/contracts';
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = JSONColumnType<Record<string, unknown>>;
type NullableJson = ColumnType<
  Record<string, unknown> | null,
  string | null | undefined,
  string | null
>;

export type OrganizationStatus = 'active' | 'suspended';
export type InviteStatus = 'pending' | 'accepted' | 'expired' | 'revoked';
export type AuditEntityType = 'organization' | 'membership' | 'invite';
/** What `audit_log.action` may hold (its CHECK, migration `20251122000800`). */
export type AuditAction =
  | 'organization.created'
  | 'organization.updated'
  | 'member.joined'
  | 'member.role_changed'
  | 'member.removed'
  | 'invite.created'
  | 'invite.accepted'
  | 'invite.revoked'
  | 'invite.expired';

export interface UsersTable {
  id: string;
  keycloak_id: string;
  email: string;
  email_verified: boolean;
  full_name: string;
  /** From the token's `phone_number`; a token without one leaves it as it was. */
  phone: string | null;
  /**
   * Raised whenever the mirrored email, its verification, name or phone changes (the version of
   * their user_registered).
   */
  version: Generated<number>;
  /** `iat` of the token the row was last mirrored from; older tokens do not change it. */
  mirrored_token_issued_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  slug: string;
  domain: string | null;
  settings: Json;
  status: Generated<OrganizationStatus>;
  owner_id: string;
  version: Generated<number>;
  event_version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OrganizationUsersTable {
  id: Generated<string>;
  organization_id: string;
  user_id: string;
  role: Role;
  permissions: Generated<Record<string, unknown>>;
  /** From one sequence, taken anew by each role change; PATCH takes it in If-Match. */
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OrganizationInvitesTable {
  id: Generated<string>;
  organization_id: string;
  email: string;
  role: Role;
  token_hash: string;
  invited_by: string;
  expires_at: Timestamp;
  status: Generated<InviteStatus>;
  accepted_by: string | null;
  accepted_at: Timestamp | null;
  revoked_by: string | null;
  revoked_at: Timestamp | null;
  /** False when the cap over all organizations was full: notification sends no email for it. */
  mailed: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AuditLogTable {
  id: Generated<string>;
  organization_id: string;
  actor_id: string | null;
  action: string;
  entity_type: AuditEntityType;
  entity_id: string;
  before: NullableJson;
  after: NullableJson;
  request_id: string | null;
  created_at: Generated<Date>;
}

/** The identity schema as kysely sees it (outbox, inbox and idempotency tables belong to @happening/db). */
export interface IdentityDatabase {
  users: UsersTable;
  organizations: OrganizationsTable;
  organization_users: OrganizationUsersTable;
  organization_invites: OrganizationInvitesTable;
  audit_log: AuditLogTable;
}
