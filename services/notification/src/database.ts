import type { CancellationReason } from '@happening/contracts';
import type { PlatformTables } from '@happening/db';
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { NotificationChannel, NotificationStatus, NotificationType } from './domain.ts';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface RecipientTable {
  user_id: string;
  email: string;
  name: string;
  phone: string | null;
  /** Identity's user version the details come from (migration 20251122000400). */
  user_version: number;
  /**
   * Whether identity verified `email`; NULL when its event did not say, taken as not verified
   * (migration 20251122001100).
   */
  email_verified: boolean | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MembershipTable {
  organization_id: string;
  user_id: string;
  /** NULL once the member was removed (a tombstone against late, older events). */
  role: 'orgAdmin' | 'organizer' | 'user' | null;
  /** identity-org's version of the organization's last event applied to this membership. */
  org_version: Generated<number>;
}

export interface EventHolderTable {
  booking_id: string;
  event_id: string;
  org_id: string;
  user_id: string;
  status: 'confirmed' | 'waiting' | 'cancelled';
  cancel_reason: CancellationReason | null;
  booking_version: number;
  /** The latest end of the event known here (its booking events and updates), for retention. */
  event_ends_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface TemplateTable {
  type: NotificationType;
  channel: NotificationChannel;
  locale: string;
  version: number;
  subject: string;
  body: string;
  created_at: CreatedAt;
}

export interface PreferenceTable {
  user_id: string;
  channel: NotificationChannel;
  type: NotificationType;
  enabled: boolean;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface NotificationTable {
  id: string;
  org_id: string | null;
  user_id: string | null;
  recipient: string;
  event_id: string | null;
  booking_id: string | null;
  type: NotificationType;
  channel: NotificationChannel;
  locale: string;
  template_version: number;
  subject: string;
  body: string;
  /** The body as sent, encrypted, when `body` had to leave a secret out (invite links). */
  sealed_body: string | null;
  status: Generated<NotificationStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  provider_message_id: string | null;
  source_event_id: string;
  correlation_id: string;
  /** The booking version a booking notice tells of; NULL for others (migration 20251122000900). */
  booking_version: ColumnType<number | null, number | null | undefined, number | null>;
  /**
   * The catalog version of the event details a booking or update notice tells (the newest known
   * when written); NULL when unknown (migration 20251123000100).
   */
  event_version: ColumnType<number | null, number | null | undefined, number | null>;
  /** The send in progress: its worker's token and how long its claim holds unless renewed. */
  lease_token: Generated<string | null>;
  leased_until: Generated<Date | null>;
  created_at: CreatedAt;
  sent_at: Date | null;
  updated_at: UpdatedAt;
}

/** A cancelled event and the `catalog.event_cancelled` envelope that said so. */
export interface CancelledEventTable {
  event_id: string;
  cancellation: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
}

/** The details of one catalog version of an event (migration 20251122000700). */
export interface EventVersionTable {
  event_id: string;
  catalog_version: number;
  /** The event's catalog snapshot at that version. */
  details: ColumnType<unknown, string, string>;
  /** The latest end of the event known here, on each of its rows, for retention. */
  event_ends_at: Date | null;
  created_at: CreatedAt;
}

/** A notice kept until its person's contact details arrive (migration 20251122000600). */
export interface WaitingNoticeTable {
  user_id: string;
  source_event_id: string;
  /** The source event's envelope as it arrived; the notice is planned from it again. */
  source_event: ColumnType<unknown, string, string>;
  created_at: CreatedAt;
}

/**
 * A fan-out to an event's holders under way: the last holder (by user id) its committed chunks
 * reached (migration 20251128000000).
 */
export interface FanOutTable {
  source_event_id: string;
  reached_user_id: string;
  created_at: CreatedAt;
}

/** The notification service's tables in the `notification` schema (with outbox and inbox). */
export interface NotificationDb extends PlatformTables {
  cancelled_events: CancelledEventTable;
  recipients: RecipientTable;
  memberships: MembershipTable;
  event_holders: EventHolderTable;
  event_versions: EventVersionTable;
  fan_outs: FanOutTable;
  templates: TemplateTable;
  notification_preferences: PreferenceTable;
  notifications: NotificationTable;
  waiting_notices: WaitingNoticeTable;
}

export type NotificationRow = Selectable<NotificationTable>;
export type NewNotificationRow = Insertable<NotificationTable>;
