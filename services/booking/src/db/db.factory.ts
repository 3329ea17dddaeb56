import type { Writable } from 'node:stream';
import { createDb } from '@happening/db';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { BookingDb } from './database.ts';

/**
 * `createDb` from `@happening/db` with the pool's clients in pg's pipeline mode: queries issued
 * on one connection without awaiting the previous one go out at once, so a booking's BEGIN
 * travels with its first statement and its COMMIT with its write (`pipelinedTransaction`).
 * Awaited one by one (everything else) they behave as before.
 */
export function createBookingDb(options: {
  connectionString: string;
  schema: string;
  max: number;
}): Kysely<BookingDb> {
  return createDb<BookingDb>({
    ...options,
    poolOptions: { pipeline: true },
    onConnect: coalesceWrites,
  });
}

/**
 * Statements a client is handed in one tick leave in one socket write (the stream is corked
 * until the next tick): a pipelined pair costs one `writev` instead of two, and on loopback the
 * write, not Postgres, is most of a statement's cost to this process.
 */
function coalesceWrites(client: pg.PoolClient): void {
  const stream = (client as unknown as { connection: { stream: Writable } }).connection.stream;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  client.query = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return query(...args);
  }) as typeof client.query;
}
