import { randomUUID } from 'node:crypto';
import type { DomainEvent, SealedBox } from '@happening/contracts';
import { enqueueOutbox } from '@happening/db';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { NewNotificationRow, NotificationDb } from '../../database.ts';
import type { NotificationChannel } from '../../domain.ts';
import { deliveryRequest } from '../delivery/delivery.message.ts';
import { holdersOf } from '../event-holders/event-holder.repository.ts';
import { type Contact, deliveryTargets } from '../preferences/preference.policy.ts';
import { storedPreferences } from '../preferences/preference.repository.ts';
import { findRecipientByEmail, findRecipients } from '../recipients/recipient.repository.ts';
import type { TemplateRenderer, TemplateSource } from '../templates/template.renderer.ts';
import { latestTemplate } from '../templates/template.repository.ts';
import type { Audience, NotificationPlan } from './notification.planner.ts';
import { insertNotifications } from './notification.repository.ts';

export interface NotificationWriterDeps {
  renderer: TemplateRenderer;
  sealedBox: SealedBox;
  /** Channels the service has a provider for. */
  channels: ReadonlySet<NotificationChannel>;
  logger: Logger;
}

/** The booking's owner is not known here yet (their user_registered has not arrived): retry later. */
export class RecipientUnknownError extends Error {
  constructor(userId: string) {
    super(`no contact details for user ${userId} yet`);
    this.name = 'RecipientUnknownError';
  }
}

interface Addressee {
  contact: Contact;
  name: string;
}

async function addressees(
  trx: Transaction<NotificationDb>,
  audience: Audience,
  logger: Logger,
): Promise<Addressee[]> {
  switch (audience.kind) {
    case 'user': {
      const [recipient] = await findRecipients(trx, [audience.userId]);
      if (!recipient) throw new RecipientUnknownError(audience.userId);
      return [{ contact: recipient, name: recipient.name }];
    }
    case 'eventHolders': {
      const userIds = await holdersOf(trx, audience.eventId, audience.includeCancelledWithEvent);
      const known = await findRecipients(trx, userIds);
      if (known.length < userIds.length) {
        // One unknown holder must not hold back everybody else's notice.
        const missing = userIds.filter((id) => !known.some((r) => r.userId === id));
        logger.warn({ eventId: audience.eventId, missing }, 'holders without contact details');
      }
      return known.map((r) => ({ contact: r, name: r.name }));
    }
    case 'address': {
      const known = await findRecipientByEmail(trx, audience.email);
      return [
        {
          contact: { userId: known?.userId ?? null, email: audience.email, phone: null },
          name: known?.name ?? '',
        },
      ];
    }
  }
}

/**
 * Stores the notifications a domain event calls for (one per recipient and channel their
 * preferences allow) and enqueues their delivery in the same transaction.
 */
export async function writeNotifications(
  trx: Transaction<NotificationDb>,
  deps: NotificationWriterDeps,
  event: DomainEvent,
  plan: NotificationPlan,
): Promise<void> {
  const people = await addressees(trx, plan.audience, deps.logger);
  const userIds = people.flatMap((p) => (p.contact.userId ? [p.contact.userId] : []));
  const preferences = await storedPreferences(trx, userIds);
  const templates = new Map<NotificationChannel, TemplateSource | undefined>();

  const rows: NewNotificationRow[] = [];
  for (const { contact, name } of people) {
    const mine = preferences.filter((p) => p.userId === contact.userId);
    for (const target of deliveryTargets(plan.type, contact, mine, deps.channels)) {
      if (!templates.has(target.channel)) {
        templates.set(target.channel, await latestTemplate(trx, plan.type, target.channel));
      }
      const template = templates.get(target.channel);
      if (!template) throw new Error(`no template for ${plan.type} on ${target.channel}`);
      rows.push({
        id: randomUUID(),
        org_id: plan.orgId ?? event.orgId ?? null,
        user_id: contact.userId,
        recipient: target.address,
        event_id: plan.eventId,
        booking_id: plan.bookingId,
        type: plan.type,
        channel: target.channel,
        locale: template.locale,
        template_version: template.version,
        ...render(deps, template, plan, name || 'there'),
        source_event_id: event.id,
        correlation_id: event.correlationId,
      });
    }
  }

  const inserted = await insertNotifications(trx, rows);
  await enqueueOutbox(
    trx,
    inserted.map((row) => deliveryRequest(row.id, row.correlation_id)),
  );
}

/** Stored text shows placeholders for secrets; the text actually sent is kept only sealed. */
function render(
  deps: NotificationWriterDeps,
  template: TemplateSource,
  plan: NotificationPlan,
  name: string,
) {
  const secrets = Object.entries(plan.secrets);
  const shown: Record<string, unknown> = { ...plan.context, name };
  for (const [key, secret] of secrets) shown[key] = secret.placeholder;
  const stored = deps.renderer.render(template, shown);
  if (secrets.length === 0) return { ...stored, sealed_body: null };
  const real: Record<string, unknown> = { ...plan.context, name };
  for (const [key, secret] of secrets) real[key] = secret.reveal();
  return {
    ...stored,
    sealed_body: deps.sealedBox.seal(deps.renderer.render(template, real).body),
  };
}
