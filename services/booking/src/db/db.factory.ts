import type { Writable } from 'node:stream';
import { createDb } from '@happening/db';
import type { Kysely } from 'kysely';
import pg from 'pg';
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
    poolOptions: { pipeline: true, types: { getTypeParser: typeParser } },
    onConnect: coalesceWrites,
  });
}

const TIMESTAMPTZ = pg.types.builtins.TIMESTAMPTZ;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (text: string) => unknown;

/** The last timestamptz texts read, as epoch ms: at most this many are kept. */
const RECENT_TIMESTAMPS = 512;
const recentTimestamps = new Map<string, number>();

/**
 * pg's parsers, but a timestamptz text already read is not parsed again: a batch's rows repeat
 * their event's times and their transaction's `now()`, and parsing dominates reading them. Each
 * row still gets a Date of its own.
 */
function typeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
  if (oid !== TIMESTAMPTZ || format === 'binary') return pg.types.getTypeParser(oid, format);
  return (text) => {
    let ms = recentTimestamps.get(text);
    if (ms === undefined) {
      const parsed = parseTimestamptz(text);
      if (!(parsed instanceof Date)) return parsed; // ±infinity
      ms = parsed.getTime();
      if (recentTimestamps.size >= RECENT_TIMESTAMPS) recentTimestamps.clear();
      recentTimestamps.set(text, ms);
    }
    return new Date(ms);
  };
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
