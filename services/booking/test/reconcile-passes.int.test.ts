import { SUBSCRIBING_SERVICES } from '@happening/messaging';
import { eventually } from '@happening/testkit';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.factory.ts';
import { lockEventExclusive } from '../src/modules/inventory/event-lock.ts';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import { type BookingRuntime, startRuntime } from '../src/runtime.ts';
import { type Booking, startBooking } from './harness.ts';
import { holdLock } from './locks.ts';

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
    expect(await svc.ctx.inventory.availability(eventId, null)).toMatchObject({
      availableSlots: 0,
    });

    const replica = await startReplica();

    expect(await replica.startupPass).toBeGreaterThanOrEqual(1);
    expect(await svc.ctx.inventory.availability(eventId, null)).toEqual({
      totalSlots: 5,
      availableSlots: 3,
      waitlistLength: 0,
    });
    expect(await svc.redis.zrange(keys.free, 0, -1)).toEqual(['3', '4', '5']);
  });

  it("a replica's start-up returns while its pass runs, and a pass a stop cuts short does not count", async () => {
    const events = [await eventWithTwoBooked(), await eventWithTwoBooked()];
    const lastPass = () =>
      svc.db.selectFrom('reconcile_passes').select('started_at').executeTakeFirst();
    await svc.db
      .updateTable('reconcile_passes')
      .set({ started_at: new Date(0) })
      .execute();
    // Requests (or the catalog consumer) holding both events: the pass waits at the first it
    // reaches, and the other is still ahead of it when the stop comes.
    const held = await Promise.all(
      events.map((eventId) => holdLock(svc.db, (trx) => lockEventExclusive(trx, eventId))),
    );
    let passDone = false;

    const replica = await startReplica();
    void replica.startupPass.then(() => {
      passDone = true;
    });
    expect(passDone).toBe(false);
    const stopped = replica.stop();
    await Promise.all(held.map((lock) => lock.release()));
    await stopped;

    expect(passDone).toBe(true);
    expect((await lastPass())?.started_at).toEqual(new Date(0));
  });

  it('a scheduled pass that a stop cuts short gives its claim back', async () => {
    const events = [await eventWithTwoBooked(), await eventWithTwoBooked()];
    const replica = await startReplica();
    await replica.startupPass;
    await svc.db
      .updateTable('reconcile_passes')
      .set({ started_at: new Date(Date.now() - 7_200_000) })
      .execute();
    const held = await Promise.all(
      events.map((eventId) => holdLock(svc.db, (trx) => lockEventExclusive(trx, eventId))),
    );

    const pass = replica.reconcileIfDue();
    await eventually(
      async () =>
        (await svc.db.selectFrom('reconcile_passes').select('started_at').executeTakeFirst())!
          .started_at > new Date(Date.now() - 60_000),
      { what: 'the pass claimed' },
    );
    const stopped = replica.stop();
    await Promise.all(held.map((lock) => lock.release()));
    await Promise.all([pass, stopped]);

    // Due at once for the replicas that stay.
    const { rows } = await sql<{ due: boolean }>`
      SELECT started_at = '-infinity' AS due FROM reconcile_passes`.execute(svc.db);
    expect(rows).toEqual([{ due: true }]);
  });

  it('a scheduled pass runs on one replica per interval, counted from the latest pass of any', async () => {
    const eventId = await eventWithTwoBooked();
    const [first, second] = [await startReplica(), await startReplica()];
    await Promise.all([first.startupPass, second.startupPass]);
    const afterStartup = (await svc.ctx.inventory.keysOf(eventId))?.generation;

    // The replicas' start-up passes are the latest: no scheduled pass is due.
    expect(await Promise.all([first.reconcileIfDue(), second.reconcileIfDue()])).toEqual([
      undefined,
      undefined,
    ]);
    expect((await svc.ctx.inventory.keysOf(eventId))?.generation).toBe(afterStartup);

    // An interval later both find it due at once: one rebuilds, the other finds it taken.
    await svc.db
      .updateTable('reconcile_passes')
      .set({ started_at: new Date(Date.now() - 7_200_000) })
      .execute();
    const outcomes = await Promise.all([first.reconcileIfDue(), second.reconcileIfDue()]);
    expect(outcomes.filter((done) => done === undefined)).toHaveLength(1);
    expect(outcomes.find((done) => done !== undefined)).toBeGreaterThanOrEqual(1);
    const afterScheduled = (await svc.ctx.inventory.keysOf(eventId))?.generation;
    expect(afterScheduled).not.toBe(afterStartup);

    // And the next is not due before another interval.
    expect(await Promise.all([first.reconcileIfDue(), second.reconcileIfDue()])).toEqual([
      undefined,
      undefined,
    ]);
    expect((await svc.ctx.inventory.keysOf(eventId))?.generation).toBe(afterScheduled);
  });
});
