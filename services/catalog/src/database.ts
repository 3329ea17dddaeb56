import type { Role } from '@happening/contracts';
import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type {
  EventCategory,
  EventStatus,
  Visibility,
  WaitlistPolicy,
} from './modules/events/event.model.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface EventsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  category: EventCategory;
  starts_at: Timestamp;
  ends_at: Timestamp;
  timezone: string;
  venue: string;
  total_slots: number;
  status: EventStatus;
  visibility: Visibility;
  waitlist_policy: WaitlistPolicy;
  max_seats_per_booking: number;
  published_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  created_by: string;
  version: number;
  // Both from the service's clock, never from Postgres' (see migration 20251123000000).
  created_at: ColumnType<Date, Date | string, never>;
  updated_at: ColumnType<Date, Date | string, Date | string>;
}

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  /** NULL once the member was removed (a tombstone against late, older events). */
  role: Role | null;
  /** identity-org's version of the organization's last event applied to this membership. */
  org_version: Generated<number>;
  updated_at: Generated<Date>;
}

export interface AvailabilityTable {
  event_id: string;
  org_id: string;
  total_slots: number;
  available_slots: number;
  confirmed_seats: number;
  waitlist_length: number;
  // bigint: pg hands it back as a string.
  sequence: ColumnType<string, number, number>;
  updated_at: Generated<Date>;
}

/** The catalog schema's tables (outbox, inbox and idempotency keys belong to @happening/db). */
export interface CatalogDatabase {
  events: EventsTable;
  memberships: MembershipsTable;
  availability: AvailabilityTable;
}

export type CatalogDb = Kysely<CatalogDatabase>;
/** Repository functions take either the pool or an open transaction. */
export type Executor = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;
