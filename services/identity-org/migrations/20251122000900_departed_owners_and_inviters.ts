import { type Kysely, sql } from 'kysely';

/**
 * Brings rows written before two rules up to them, as the service now keeps them on every change:
 * - an organization whose owner is no longer its orgAdmin (left, removed or demoted) passes to the
 *   orgAdmin who has held the role longest (lowest membership version, then user id), its version
 *   raised, audited as `organization.updated` from `ownerId` to `ownerId`;
 * - a pending, unexpired invite whose inviter is no longer an orgAdmin of its organization is
 *   revoked, audited as `invite.revoked`.
 * Both audited without an actor, as the expiry sweep is. Running it again changes nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    WITH departed AS (
      SELECT o.id, o.owner_id AS before_owner, (
        SELECT ou.user_id FROM organization_users ou
        WHERE ou.organization_id = o.id AND ou.role = 'orgAdmin'
        ORDER BY ou.version, ou.user_id LIMIT 1
      ) AS successor
      FROM organizations o
      WHERE NOT EXISTS (
        SELECT 1 FROM organization_users ou
        WHERE ou.organization_id = o.id AND ou.user_id = o.owner_id AND ou.role = 'orgAdmin')
      FOR UPDATE OF o
    ), handed AS (
      UPDATE organizations o SET owner_id = d.successor, version = o.version + 1
      FROM departed d WHERE o.id = d.id AND d.successor IS NOT NULL
      RETURNING o.id, d.before_owner, d.successor
    )
    INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, before, after)
    SELECT id, NULL, 'organization.updated', 'organization', id::text,
           jsonb_build_object('ownerId', before_owner), jsonb_build_object('ownerId', successor)
    FROM handed`.execute(db);

  await sql`
    WITH revoked AS (
      UPDATE organization_invites i SET status = 'revoked', revoked_at = now()
      WHERE i.status = 'pending' AND i.expires_at > now()
        AND NOT EXISTS (
          SELECT 1 FROM organization_users ou
          WHERE ou.organization_id = i.organization_id AND ou.user_id = i.invited_by
            AND ou.role = 'orgAdmin')
      RETURNING i.id, i.organization_id
    )
    INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, before, after)
    SELECT organization_id, NULL, 'invite.revoked', 'invite', id::text,
           '{"status":"pending"}'::jsonb, '{"status":"revoked"}'::jsonb
    FROM revoked`.execute(db);
}

export async function down(): Promise<void> {
  // Data brought up to the rules stays so.
}
