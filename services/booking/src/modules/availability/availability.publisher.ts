import { buildEvent } from '@happening/contracts';
import { enqueueEvents } from '@happening/db';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { AvailabilitySignal } from '../../context.ts';
import type { BookingDb } from '../../db/database.ts';
import { setWaitlistLength } from '../../metrics/booking.metrics.ts';
import type { AvailabilityFigures, Inventory } from '../../redis/inventory.client.ts';
import { type EventRecord, findEvent } from '../inventory/event-inventory.repository.ts';

export interface AvailabilityPublisher extends AvailabilitySignal {
  /** Publishes every pending event now. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Coalesces availability changes per event: the first change arms a short timer, later ones
 * ride along, and one `booking.availability_changed` with the figures at that moment is
 * enqueued. Its `sequence` comes from Postgres, so it only grows, across restarts too.
 */
export function createAvailabilityPublisher(deps: {
  db: Kysely<BookingDb>;
  inventory: Inventory;
  logger: Logger;
  wakeRelay: () => void;
  debounceMs: number;
}): AvailabilityPublisher {
  const pending = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  const run = (eventId: string) => {
    pending.delete(eventId);
    const task = publish(deps, eventId)
      .catch((error) => deps.logger.error({ err: error, eventId }, 'availability not published'))
      .finally(() => running.delete(task));
    running.add(task);
  };

  return {
    touch(eventId) {
      if (stopped || pending.has(eventId)) return;
      pending.set(
        eventId,
        setTimeout(() => run(eventId), deps.debounceMs),
      );
    },
    async flush() {
      for (const [eventId, timer] of pending) {
        clearTimeout(timer);
        run(eventId);
      }
      await Promise.all(running);
    },
    async stop() {
      stopped = true;
      await this.flush();
    },
  };
}

async function publish(
  deps: { db: Kysely<BookingDb>; inventory: Inventory; wakeRelay: () => void },
  eventId: string,
): Promise<void> {
  const event = await findEvent(deps.db, eventId);
  if (!event) return;
  const enqueued = await deps.db.transaction().execute(async (trx) => {
    // The sequence first: its row stays locked until this commits, so publishers of one event
    // (replicas, or this one again) read the figures one after the other, in sequence order —
    // read before it, older figures could take the higher sequence and win.
    const { sequence } = await trx
      .insertInto('availability_sequence')
      .values({ event_id: eventId, sequence: 1 })
      .onConflict((oc) =>
        oc.column('event_id').doUpdateSet({ sequence: sql`availability_sequence.sequence + 1` }),
      )
      .returning('sequence')
      .executeTakeFirstOrThrow();
    const figures =
      (await deps.inventory.availability(eventId, event.redisGeneration)) ?? closedFigures(event);
    setWaitlistLength(eventId, figures?.waitlistLength ?? 0);
    // Keys being rebuilt: the rebuild signals again. (A skipped sequence number is harmless.)
    if (!figures) return false;
    const confirmed = await trx
      .selectFrom('booking_seats')
      .select(sql<string>`count(*)`.as('n'))
      .where('event_id', '=', eventId)
      .where('status', '=', 'booked')
      .executeTakeFirstOrThrow();
    const envelope = buildEvent(
      'booking.availability_changed',
      {
        eventId,
        orgId: event.orgId,
        totalSlots: figures.totalSlots,
        availableSlots: figures.availableSlots,
        confirmedSeats: Number(confirmed.n),
        waitlistLength: figures.waitlistLength,
        sequence: Number(sequence),
      },
      {
        source: 'booking',
        orgId: event.orgId,
        aggregate: { type: 'event-availability', id: eventId, version: Number(sequence) },
        correlationId: `availability:${eventId}:${sequence}`,
      },
    );
    await enqueueEvents(trx, [envelope]);
    return true;
  });
  if (enqueued) deps.wakeRelay();
}

/**
 * The figures of an event that holds no inventory because it is over (completed or cancelled):
 * nothing left to book and its waitlist closed, so consumers do not keep the last figures from
 * before. Undefined for an open event, whose keys are only being rebuilt.
 */
function closedFigures(event: EventRecord): AvailabilityFigures | undefined {
  if (event.status !== 'completed' && event.status !== 'cancelled') return undefined;
  return { totalSlots: event.totalSlots, availableSlots: 0, waitlistLength: 0 };
}
