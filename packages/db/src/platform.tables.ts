import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface OutboxTable {
  id: Generated<string>;
  message_id: string;
  routing_key: string;
  payload: unknown;
  headers: ColumnType<Record<string, unknown>, string | undefined, string>;
  aggregate_type: string | null;
  aggregate_id: string | null;
  /** The aggregate, or the message itself when it has none: rows are published in order per key. */
  ordering_key: Generated<string>;
  created_at: Timestamp;
  published_at: Date | null;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
}

export interface InboxTable {
  consumer: string;
  message_id: string;
  handled_at: Timestamp;
}

export interface IdempotencyKeyTable {
  scope: string;
  key: string;
  fingerprint: string;
  status: 'pending' | 'completed';
  status_code: number | null;
  body: unknown;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The tables the platform migrations create in every service schema. */
export interface PlatformTables {
  outbox: OutboxTable;
  inbox: InboxTable;
  idempotency_keys: IdempotencyKeyTable;
}
