import type { InboxEntry } from '@happening/db';
import type { Kysely, Transaction } from 'kysely';
import type { NotificationDb } from '../../database.ts';
import { nthHolderAfter } from '../event-holders/event-holder.repository.ts';
import type { EventHoldersAudience } from '../notifications/notification.planner.ts';
import {
  endFanOut,
  fanOutReached,
  handledBefore,
  lockFanOut,
  recordFanOutReached,
  recordHandled,
} from './fan-out.repository.ts';

/**
 * Holders one transaction of a fan-out writes to. At 50,000 holders in one transaction
 * (scripts/fan-out-bench.ts) it stayed open 12–19 s, and with it the event's holders lock that
 * every booking of the event waits for to be projected; rendering stalled the event loop 7–10 s;
 * a redelivery after a failure near the end did all of it again. Chunks of 1,000 kept each under
 * about a second there.
 */
export const HOLDERS_PER_CHUNK = 1_000;

/**
 * Handles `entry`'s message, a notice to an event's holders (`audience`), exactly once, in chunks
 * of `HOLDERS_PER_CHUNK` holders in user id order: each chunk is a transaction of its own in which
 * `writeChunk` writes the notices of the holders in its range and the holder it reached is
 * recorded (`fan_outs`). The inbox entry commits with the last chunk only, so a redelivery after
 * a failure or a crash mid-way goes on after the holder reached; a holder written twice anyway
 * gets nothing new (`insertNotifications`, `keepWaiting`). Each chunk decides on what is known
 * when it runs, as a notice handled then would: an update whose event is cancelled meanwhile
 * tells the holders after that nothing. A holder whose booking is projected mid-way behind the
 * chunk that would have had them is told by their booking's own notice, written with the event's
 * details as known then (or telling of its cancellation), as one projected after a fan-out in one
 * transaction is. A fan-out to fewer holders than a chunk is one transaction, as before.
 */
export async function fanOutInChunks(
  db: Kysely<NotificationDb>,
  entry: InboxEntry,
  audience: EventHoldersAudience,
  writeChunk: (trx: Transaction<NotificationDb>, audience: EventHoldersAudience) => Promise<void>,
): Promise<void> {
  let done = false;
  while (!done) {
    done = await db.transaction().execute(async (trx) => {
      await lockFanOut(trx, entry.messageId);
      // Under the lock: a delivery that waited for another one's last chunk sees its inbox entry.
      if (await handledBefore(trx, entry)) return true;
      const after = await fanOutReached(trx, entry.messageId);
      const through = await nthHolderAfter(
        trx,
        audience.eventId,
        audience.includeCancelledWithEvent,
        after,
        HOLDERS_PER_CHUNK,
      );
      await writeChunk(trx, { ...audience, range: { after, through } });
      if (through !== undefined) {
        await recordFanOutReached(trx, entry.messageId, through);
        return false;
      }
      await recordHandled(trx, entry);
      await endFanOut(trx, entry.messageId);
      return true;
    });
  }
}
