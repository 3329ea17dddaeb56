import { SUBSCRIBING_SERVICES } from '@happening/messaging';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.factory.ts';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import { type BookingRuntime, startRuntime } from '../src/runtime.ts';
import { type Booking, startBooking } from './harness.ts';

let svc: Booking;
const replicas: BookingRuntime[] = [];

beforeAll(async () => {
  svc = await startBooking();
});

afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => replica.stop()));
});

afterAll(async () => {
  await svc?.stop();
});

/** Another replica's background half, on the same Postgres, Redis and broker. */
async function startReplica(): Promise<BookingRuntime> {
  const { ctx, availability, connectRelay } = createContext({
    db: svc.db,
    redis: svc.redis,
    logger: pino({ level: 'silent' }),
  });
  const runtime = await startRuntime({
    ctx,
    availability,
    connectRelay,
    broker: svc.broker,
    reconcileIntervalMs: 3_600_000,
    outboxMaxDeferMs: 60_000,
    eventConsumers: SUBSCRIBING_SERVICES,
  });
  replicas.push(runtime);
  return runtime;
}

/** An open event of five seats, two of them booked. */
async function eventWithTwoBooked() {
  const { eventId } = await svc.openEvent({ totalSlots: 5 });
  expect((await svc.book(await svc.user(), eventId, 2)).statusCode).toBe(201);
  return eventId;
}

describe('reconciliation passes over every open event', () => {
  it('a replica starting rebuilds an event whose keys diverged from Postgres', async () => {
    const eventId = await eventWithTwoBooked();
    const keys = inventoryKeys(eventId);
    // Seats Postgres holds free, lost in Redis (e.g. a replica died between its decision and
    // its write): the event looks sold out.
    await svc.redis.multi().set(keys.slots, 0).del(keys.free).exec();
    expect(await svc.ctx.inventory.availability(eventId)).toMatchObject({ availableSlots: 0 });

    const replica = await startReplica();

    expect(await replica.startupPass).toBeGreaterThanOrEqual(1);
    expect(await svc.ctx.inventory.availability(eventId)).toEqual({
      totalSlots: 5,
      availableSlots: 3,
      waitlistLength: 0,
    });
    expect(await svc.redis.zrange(keys.free, 0, -1)).toEqual(['3', '4', '5']);
  });

  it('a scheduled pass runs on one replica per interval, counted from the latest pass of any', async () => {
    const eventId = await eventWithTwoBooked();
    const [first, second] = [await startReplica(), await startReplica()];
    await Promise.all([first.startupPass, second.startupPass]);
    const afterStartup = await svc.ctx.inventory.generation(eventId);

    // The replicas' start-up passes are the latest: no scheduled pass is due.
    expect(await Promise.all([first.reconcileIfDue(), second.reconcileIfDue()])).toEqual([
      undefined,
      undefined,
    ]);
    expect(await svc.ctx.inventory.generation(eventId)).toBe(afterStartup);

    // An interval later both find it due at once: one rebuilds, the other finds it taken.
    await svc.db
      .updateTable('reconcile_passes')
      .set({ started_at: new Date(Date.now() - 7_200_000) })
      .execute();
    const outcomes = await Promise.all([first.reconcileIfDue(), second.reconcileIfDue()]);
    expect(outcomes.filter((done) => done === undefined)).toHaveLength(1);
    expect(outcomes.find((done) => done !== undefined)).toBeGreaterThanOrEqual(1);
    const afterScheduled = await svc.ctx.inventory.generation(eventId);
    expect(afterScheduled).not.toBe(afterStartup);

    // And the next is not due before another interval.
    expect(await Promise.all([first.reconcileIfDue(), second.reconcileIfDue()])).toEqual([
      undefined,
      undefined,
    ]);
    expect(await svc.ctx.inventory.generation(eventId)).toBe(afterScheduled);
  });
});
