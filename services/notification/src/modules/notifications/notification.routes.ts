import { enqueueOutbox } from '@happening/db';
import { type App, DomainError, decodeCursor, toPage } from '@happening/service-kit';
import type { Kysely } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import type { NotificationStatus } from '../../domain.ts';
import { deliveryRequest } from '../delivery/delivery.message.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import {
  findNotification,
  listNotificationsOf,
  type NotificationOwner,
  reopenFailed,
} from './notification.repository.ts';
import {
  listCursor,
  listQuery,
  notificationPage,
  notificationParams,
  orgNotificationPage,
  orgNotificationView,
  orgParams,
  toOrgView,
  toView,
} from './notification.schemas.ts';

const notFound = () => new DomainError('NOTIFICATION_NOT_FOUND', 404, 'Notification not found.');

/**
 * Lets an orgAdmin of the organization through: anyone outside it gets `outsider` (404, so the
 * organization's things stay unknown to them), its other members 403 FORBIDDEN.
 */
async function requireOrgAdmin(
  db: Kysely<NotificationDb>,
  orgId: string,
  callerId: string,
  outsider: () => DomainError,
  forbidden: string,
): Promise<void> {
  const role = await roleOf(db, orgId, callerId);
  if (role === undefined) throw outsider();
  if (role !== 'orgAdmin') throw new DomainError('FORBIDDEN', 403, forbidden);
}

/** One page of `owner`'s notifications as a list query asks for it. */
async function pageOf(
  db: Kysely<NotificationDb>,
  owner: NotificationOwner,
  query: { limit: number; cursor?: string | undefined; status?: NotificationStatus | undefined },
) {
  const after = query.cursor ? decodeCursor(query.cursor, listCursor) : undefined;
  const rows = await listNotificationsOf(db, owner, {
    limit: query.limit + 1,
    ...(query.status ? { status: query.status } : {}),
    ...(after ? { after } : {}),
  });
  return toPage(rows, query.limit, (last) => ({ createdAt: last.created_at_text, id: last.id }));
}

export function registerNotificationRoutes(api: App, db: Kysely<NotificationDb>): void {
  api.get(
    '/v1/me/notifications',
    {
      schema: {
        querystring: listQuery,
        response: { 200: notificationPage },
      },
    },
    async (request) => {
      const page = await pageOf(db, { userId: request.principal.sub }, request.query);
      return { items: page.items.map(toView), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/v1/orgs/:orgId/notifications',
    {
      schema: {
        description:
          "The organization's notifications, newest first, with why a delivery failed and " +
          'without contact details or message (orgAdmin): e.g. `?status=failed` for those to ' +
          'retry. 404 ORGANIZATION_NOT_FOUND ' +
          'for anyone outside the organization, 403 FORBIDDEN for other roles.',
        params: orgParams,
        querystring: listQuery,
        response: { 200: orgNotificationPage },
      },
    },
    async (request) => {
      const { orgId } = request.params;
      await requireOrgAdmin(
        db,
        orgId,
        request.principal.sub,
        () => new DomainError('ORGANIZATION_NOT_FOUND', 404, 'No such organization.'),
        "Only an orgAdmin can read the organization's notifications.",
      );
      const page = await pageOf(db, { orgId }, request.query);
      return { items: page.items.map(toOrgView), nextCursor: page.nextCursor };
    },
  );

  api.post(
    '/v1/notifications/:id/retry',
    {
      schema: {
        description:
          'Sends a failed notification again (orgAdmin of its organization). A pending one ' +
          '(queued, or being sent or retried already) answers 202 as it is and nothing more is ' +
          'sent, so a retried request gets what the first got. 404 NOTIFICATION_NOT_FOUND for ' +
          'anyone outside that organization, 403 FORBIDDEN for other roles, 422 ' +
          'NOTIFICATION_NOT_FAILED for one sent or skipped.',
        params: notificationParams,
        // Errors are problem+json, documented by the platform's shared responses.
        response: { 202: orgNotificationView },
      },
    },
    async (request, reply) => {
      const found = await findNotification(db, request.params.id);
      // Only the notification's organization may know it exists.
      if (!found?.org_id) throw notFound();
      await requireOrgAdmin(
        db,
        found.org_id,
        request.principal.sub,
        notFound,
        'Only an orgAdmin can retry a notification.',
      );
      const reopen = () =>
        db.transaction().execute(async (trx) => {
          const row = await reopenFailed(trx, found.id);
          if (row) await enqueueOutbox(trx, [deliveryRequest(row.id, row.correlation_id)]);
          return row;
        });
      // Pending already (this retry sent twice, one by another admin, or not sent yet): it is on
      // its way. Read again as it is, not locked (a send holds its row while it records the
      // outcome); one that failed for good since is reopened after all, and so on, a few times.
      let current = await reopen();
      for (let tries = 1; !current; tries += 1) {
        const now = await findNotification(db, found.id);
        if (!now) throw notFound();
        if (now.status !== 'failed' || tries === 3) current = now;
        else current = await reopen();
      }
      if (current.status !== 'pending') {
        throw new DomainError(
          'NOTIFICATION_NOT_FAILED',
          422,
          `Only a failed notification can be retried; this one is ${current.status}.`,
        );
      }
      reply.status(202);
      return toOrgView(current);
    },
  );
}
