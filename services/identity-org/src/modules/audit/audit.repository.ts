import type { AuditAction, AuditEntityType } from '../../db.types.ts';
import type { Executor } from '../../shared/database.ts';

/** One audited change: what happened to which entity, by whom, before and after. */
export interface AuditEntry {
  organizationId: string;
  actorId: string | null;
  action: AuditAction;
  entityType: AuditEntityType;
  entityId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

/** An audit row as read back. */
export interface AuditRecord extends AuditEntry {
  id: string;
  createdAt: Date;
}

const json = (value: unknown) =>
  value === null || value === undefined ? null : JSON.stringify(value);

/** Appends to the audit log in the caller's transaction (the table refuses updates and deletes). */
export async function appendAudit(db: Executor, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('audit_log')
    .values(
      entries.map((e) => ({
        organization_id: e.organizationId,
        actor_id: e.actorId,
        action: e.action,
        entity_type: e.entityType,
        entity_id: e.entityId,
        before: json(e.before),
        after: json(e.after),
        request_id: e.requestId,
      })),
    )
    .execute();
}

/** Newest first; `beforeId` is the keyset position of the previous page's last row. */
export async function listAudit(
  db: Executor,
  organizationId: string,
  limit: number,
  beforeId: string | undefined,
): Promise<AuditRecord[]> {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('id', 'desc')
    .limit(limit);
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: String(row.id),
    organizationId: row.organization_id,
    actorId: row.actor_id,
    // The column's CHECK holds it to the actions.
    action: row.action as AuditAction,
    entityType: row.entity_type,
    entityId: row.entity_id,
    before: row.before,
    after: row.after,
    requestId: row.request_id,
    createdAt: row.created_at,
  }));
}
