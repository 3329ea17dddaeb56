import type { Kysely, Transaction } from 'kysely';
import type { PlatformTables } from './platform.tables.ts';

export interface InboxEntry {
  /** Who handles the message (one service may run several consumers of one message). */
  consumer: string;
  messageId: string;
}

/**
 * Runs `work` once per (consumer, message id): in one transaction it records the id in the inbox
 * and runs `work`, so a failure of `work` forgets the id too. A concurrent duplicate waits on the
 * inbox row's unique key and then finds it taken. Returns false when the message was handled before.
 */
export async function handleOnce<DB>(
  db: Kysely<DB>,
  entry: InboxEntry,
  work: (trx: Transaction<DB>) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const inserted = await (trx as unknown as Transaction<PlatformTables>)
      .insertInto('inbox')
      .values({ consumer: entry.consumer, message_id: entry.messageId })
      .onConflict((oc) => oc.columns(['consumer', 'message_id']).doNothing())
      .returning('message_id')
      .executeTakeFirst();
    if (!inserted) return false;
    await work(trx);
    return true;
  });
}
