import { randomUUID } from 'node:crypto';
import { startPostgres } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, enqueueOutbox, MAX_BIND_PARAMETERS, withTransaction } from '../src/index.ts';
import { migratedDb } from './support.ts';

let postgres: Awaited<ReturnType<typeof startPostgres>>;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres?.stop();
});

describe('enqueueOutbox', () => {
  it('writes a fan-out larger than one statement can carry, in order, all or nothing', async () => {
    const db = await migratedDb(postgres.url, 'outbox_enqueue_many');
    try {
      // Six parameters a row: more rows than one statement's bind parameters allow.
      const count = Math.ceil(MAX_BIND_PARAMETERS / 6) + 500;
      const messages = Array.from({ length: count }, (_, i) => ({
        messageId: randomUUID(),
        routingKey: 'fan.out',
        payload: { i },
        aggregateType: 'fan',
        aggregateId: 'one',
      }));
      await withTransaction(db, (trx) => enqueueOutbox(trx, messages));
      const rows = await db.selectFrom('outbox').select(['message_id']).orderBy('id').execute();
      expect(rows.map((row) => row.message_id)).toEqual(messages.map((m) => m.messageId));

      // A failing chunk takes the earlier ones with it: the caller's transaction rolls back.
      const duplicate = { ...messages[0]!, messageId: randomUUID() };
      const failing = [
        ...messages.slice(1, count).map((m) => ({ ...m, messageId: randomUUID() })),
        duplicate,
        duplicate,
      ];
      await expect(withTransaction(db, (trx) => enqueueOutbox(trx, failing))).rejects.toThrow();
      expect(await db.selectFrom('outbox').select('id').execute()).toHaveLength(count);
    } finally {
      await closeDb(db);
    }
  });
});
