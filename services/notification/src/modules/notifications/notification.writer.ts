import { randomUUID } from 'node:crypto';
import type { DomainEvent, SealedBox } from '@happening/contracts';
import { enqueueOutbox } from '@happening/db';
import { UnprocessableMessage } from '@happening/messaging';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { NewNotificationRow, NotificationDb } from '../../database.ts';
import type { NotificationChannel } from '../../domain.ts';
import { deliveryRequest } from '../delivery/delivery.message.ts';
import { holderChangeOf } from '../event-holders/event-holder.projection.ts';
import { holdersOf } from '../event-holders/event-holder.repository.ts';
import { type Contact, deliveryTargets } from '../preferences/preference.policy.ts';
import { type StoredPreference, storedPreferences } from '../preferences/preference.repository.ts';
import {
  findRecipients,
  findVerifiedRecipientByEmail,
  lockRecipients,
  type Recipient,
} from '../recipients/recipient.repository.ts';
import type { TemplateRenderer, TemplateSource } from '../templates/template.renderer.ts';
import { latestTemplate } from '../templates/template.repository.ts';
import { keepWaiting } from '../waiting-notices/waiting-notice.repository.ts';
import type { Audience, NotificationPlan } from './notification.planner.ts';
import { insertNotifications } from './notification.repository.ts';

export interface NotificationWriterDeps {
  renderer: TemplateRenderer;
  sealedBox: SealedBox;
  /** Channels the service has a provider for. */
  channels: ReadonlySet<NotificationChannel>;
  logger: Logger;
}

interface Addressee {
  contact: Contact;
  name: string;
}

/** Whom a notice reaches now, and the people it must wait for (their details not arrived). */
interface Addressees {
  known: Addressee[];
  waitingFor: string[];
}

const addressee = (r: Recipient): Addressee => ({ contact: r, name: r.name });

/**
 * The recipients of `userIds`, and the ids of those whose details have not arrived. A person
 * found missing is looked up again under their recipient lock (`lockRecipients`): details
 * committed meanwhile are seen then, and details arriving later find this notice waiting.
 */
async function recipientsOf(
  trx: Transaction<NotificationDb>,
  userIds: readonly string[],
): Promise<Addressees> {
  const found = await findRecipients(trx, userIds);
  const missing = userIdsWithout(userIds, found);
  if (missing.length === 0) return { known: found.map(addressee), waitingFor: [] };
  await lockRecipients(trx, missing);
  const arrived = await findRecipients(trx, missing);
  return {
    known: [...found, ...arrived].map(addressee),
    waitingFor: userIdsWithout(missing, arrived),
  };
}

/** The ids of `userIds` that none of `recipients` has. */
export function userIdsWithout(
  userIds: readonly string[],
  recipients: readonly Pick<Recipient, 'userId'>[],
): string[] {
  const known = new Set(recipients.map((r) => r.userId));
  return [...new Set(userIds)].filter((id) => !known.has(id));
}

async function addressees(
  trx: Transaction<NotificationDb>,
  audience: Audience,
): Promise<Addressees> {
  switch (audience.kind) {
    case 'user':
      return recipientsOf(trx, [audience.userId]);
    case 'eventHolders':
      return recipientsOf(
        trx,
        await holdersOf(trx, audience.eventId, audience.includeCancelledWithEvent, audience.range),
      );
    case 'address': {
      // Linked to a person (their list shows it) only when the address is theirs, verified;
      // otherwise it is written as for an unknown address. It is mailed to the address either way.
      const known = await findVerifiedRecipientByEmail(trx, audience.email);
      const contact = { userId: known?.userId ?? null, email: audience.email, phone: null };
      return { known: [{ contact, name: known?.name ?? '' }], waitingFor: [] };
    }
  }
}

/**
 * Stores the notifications a domain event calls for (one per recipient and channel their
 * preferences allow) and enqueues their delivery in the same transaction. For a person whose
 * contact details have not arrived, the notice is kept waiting for them instead (one person
 * unknown does not hold back a fan-out to everybody else).
 */
export async function writeNotifications(
  trx: Transaction<NotificationDb>,
  deps: NotificationWriterDeps,
  event: DomainEvent,
  plan: NotificationPlan,
): Promise<void> {
  const { known: people, waitingFor } = await addressees(trx, plan.audience);
  const userIds = people.flatMap((p) => (p.contact.userId ? [p.contact.userId] : []));
  // Grouped once: filtering every holder's rows out of all of them made a fan-out to 20,000
  // holders with stored preferences block the event loop for seconds.
  const preferencesOf = byUser(await storedPreferences(trx, userIds));
  const templates = new Map<NotificationChannel, TemplateSource | undefined>();
  // A booking event's notice tells of that version of the booking (checked again when sent).
  const bookingVersion = holderChangeOf(event)?.bookingVersion ?? null;

  const rows: NewNotificationRow[] = [];
  for (const { contact, name } of people) {
    const mine = (contact.userId && preferencesOf.get(contact.userId)) || [];
    for (const target of deliveryTargets(plan.type, contact, mine, deps.channels)) {
      if (!templates.has(target.channel)) {
        templates.set(target.channel, await latestTemplate(trx, plan.type, target.channel));
      }
      const template = templates.get(target.channel);
      // Neither a missing template nor one that fails to render will do otherwise next time.
      if (!template) {
        throw new UnprocessableMessage(`no template for ${plan.type} on ${target.channel}`);
      }
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
        ...renderOrRefuse(deps, template, plan, name || 'there'),
        source_event_id: event.id,
        correlation_id: event.correlationId,
        booking_version: bookingVersion,
        event_version: plan.eventVersion ?? null,
      });
    }
  }

  const inserted = await insertNotifications(trx, rows);
  await enqueueOutbox(
    trx,
    inserted.map((row) => deliveryRequest(row.id, row.correlation_id)),
  );
  if (waitingFor.length > 0) {
    const started = await keepWaiting(trx, event, waitingFor);
    deps.logger.info(
      { sourceEventId: event.id, type: plan.type, waitingFor, started },
      'notice waits for contact details',
    );
  }
}

/**
 * `render`, which depends on nothing but its arguments: what fails fails again on every delivery,
 * so it is `UnprocessableMessage`. The reason names the template and the error, not the text.
 */
function renderOrRefuse(
  deps: NotificationWriterDeps,
  template: TemplateSource,
  plan: NotificationPlan,
  name: string,
) {
  try {
    return render(deps, template, plan, name);
  } catch (error) {
    // An invite's link that does not open says so itself.
    if (error instanceof UnprocessableMessage) throw error;
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new UnprocessableMessage(
      `rendering ${template.type} on ${template.channel} (template version ${template.version}) failed: ${why}`,
      { cause: error },
    );
  }
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

/** Each person's stored preferences. */
function byUser(preferences: readonly StoredPreference[]): Map<string, StoredPreference[]> {
  const grouped = new Map<string, StoredPreference[]>();
  for (const preference of preferences) {
    const own = grouped.get(preference.userId);
    if (own) own.push(preference);
    else grouped.set(preference.userId, [preference]);
  }
  return grouped;
}
