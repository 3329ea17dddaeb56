import type { Transaction } from 'kysely';
import type { PlatformTables } from './platform.tables.ts';
import { rowChunks } from './row-chunks.ts';

const OUTBOX_PARAMETERS_PER_ROW = 6;

/** A message the relay will publish once the enqueuing transaction commits. */
export interface OutboxMessage {
  /** Unique; consumers deduplicate on it. */
  messageId: string;
  routingKey: string;
  /** Sent as JSON. */
  payload: unknown;
  headers?: Record<string, unknown>;
  /** Messages of one aggregate are published in the order they were enqueued. */
  aggregateType?: string;
  aggregateId?: string;
}

/** The fields of a contract envelope the outbox needs (`@happening/contracts` EventEnvelope fits). */
export interface OutboxEnvelope {
  id: string;
  type: string;
  aggregate: { type: string; id: string };
}

/**
 * Writes outbox rows in the caller's transaction. Enqueue after the aggregate's own write: that
 * write serialises writers of one aggregate, which keeps its rows in publishing order.
 */
export async function enqueueOutbox<DB>(
  trx: Transaction<DB>,
  messages: readonly OutboxMessage[],
): Promise<void> {
  const rows = messages.map((message) => ({
    message_id: message.messageId,
    routing_key: message.routingKey,
    payload: JSON.stringify(message.payload),
    headers: JSON.stringify(message.headers ?? {}),
    aggregate_type: message.aggregateType ?? null,
    aggregate_id: message.aggregateId ?? null,
  }));
  for (const chunk of rowChunks(rows, OUTBOX_PARAMETERS_PER_ROW)) {
    await (trx as unknown as Transaction<PlatformTables>)
      .insertInto('outbox')
      .values(chunk)
      .execute();
  }
}

/** Enqueues contract envelopes: routing key = event type, message id = event id. */
export function enqueueEvents<DB>(
  trx: Transaction<DB>,
  envelopes: readonly OutboxEnvelope[],
): Promise<void> {
  return enqueueOutbox(
    trx,
    envelopes.map((envelope) => ({
      messageId: envelope.id,
      routingKey: envelope.type,
      payload: envelope,
      aggregateType: envelope.aggregate.type,
      aggregateId: envelope.aggregate.id,
    })),
  );
}
