import type { CancellationReason } from '@happening/contracts';
import type { PlatformTables } from '@happening/db';
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string | undefined>;

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  /** NULL once the member was removed (a tombstone against late, older events). */
  role: 'orgAdmin' | 'organizer' | 'user' | null;
  /** identity-org's version of the organization's last event applied to this membership. */
  org_version: Generated<number>;
}

export interface EventInventoryTable {
  event_id: string;
  org_id: string;
  name: string;
  starts_at: Date;
  ends_at: Date;
  total_slots: number;
  waitlist_policy: 'fifo' | 'first_fit';
  max_seats_per_booking: number;
  status: 'draft' | 'upcoming' | 'ongoing' | 'completed' | 'cancelled';
  visibility: 'public' | 'members';
  /** The catalog version of the last snapshot applied: name, times, policy, limit, visibility. */
  catalog_version: number;
  /** The catalog version that last set `total_slots`. */
  slots_version: number;
  /** The catalog version that last set `status`. */
  status_version: number;
  /** The generation of the Redis keys the last committed rebuild made (see reconcile.service). */
  redis_generation: ColumnType<string | null, string | null | undefined, string | null>;
  /** The token of the last cancellation that committed a release in Redis (see inventory.lua.ts). */
  last_release: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface BookingHistoryTable {
  position: Generated<string>;
  booking_id: string;
  event_id: string;
  version: number;
  action: 'created' | 'cancelled' | 'promoted';
  details: ColumnType<unknown, string, never>;
  occurred_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface BookingsTable {
  id: string;
  event_id: string;
  org_id: string;
  user_id: string;
  seats: number;
  status: 'confirmed' | 'waiting' | 'cancelled';
  waiting_number: number | null;
  cancelled_reason: CancellationReason | null;
  version: number;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface BookingSeatsTable {
  booking_id: string;
  event_id: string;
  seat_no: number;
  status: 'booked' | 'released';
}

export interface ReconcilePassesTable {
  pass: string;
  started_at: Date;
}

export interface AvailabilitySequenceTable {
  event_id: string;
  sequence: string | number;
}

/** The booking schema as kysely sees it. */
export interface BookingDb extends PlatformTables {
  memberships: MembershipsTable;
  event_inventory: EventInventoryTable;
  booking_history: BookingHistoryTable;
  bookings: BookingsTable;
  booking_seats: BookingSeatsTable;
  availability_sequence: AvailabilitySequenceTable;
  reconcile_passes: ReconcilePassesTable;
}

export type BookingRow = Selectable<BookingsTable>;
export type EventInventoryRow = Selectable<EventInventoryTable>;
export type NewEventInventory = Insertable<EventInventoryTable>;
