import { type QueryExecutorProvider, sql } from 'kysely';

/** One membership event as the projection keeps it. */
export interface MembershipChange {
  organizationId: string;
  userId: string;
  /** The role the event leaves the member with; null once removed (the row stays, a tombstone). */
  role: string | null;
  /** The organization's event version (identity-org numbers every event of an organization). */
  version: number;
}

/**
 * Applies a membership event to a service's `memberships` projection (organization_id uuid,
 * user_id text, role text NULL, org_version integer), unless a later event of the organization
 * was applied already. Consumers run several messages at once and retries reorder them, so
 * without the version a role change delivered late would bring a removed member back.
 */
export async function projectMembership(
  db: QueryExecutorProvider,
  change: MembershipChange,
): Promise<void> {
  await sql`
    INSERT INTO memberships (organization_id, user_id, role, org_version)
    VALUES (${change.organizationId}, ${change.userId}, ${change.role}, ${change.version})
    ON CONFLICT (organization_id, user_id) DO UPDATE
      SET role = EXCLUDED.role, org_version = EXCLUDED.org_version
      WHERE memberships.org_version < EXCLUDED.org_version`.execute(db);
}
