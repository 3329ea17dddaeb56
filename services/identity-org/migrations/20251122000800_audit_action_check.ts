import { type Kysely, sql } from 'kysely';

/**
 * The audit actions as a CHECK, like every other enumeration of the schema: a misspelt action
 * would otherwise be stored and never match what readers of the audit log filter on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (
      'organization.created', 'organization.updated',
      'member.joined', 'member.role_changed', 'member.removed',
      'invite.created', 'invite.accepted', 'invite.revoked', 'invite.expired'
    ))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check`.execute(db);
}
