import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEvent } from '../src/modules/inventory/event-inventory.repository.ts';
import { lockEventShared } from '../src/modules/inventory/event-lock.ts';
import { type Booking, startBooking } from './harness.ts';
import { expectConsistent } from './invariants.ts';
import { advisoryLockAwaited, holdLock } from './locks.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

describe('a capacity change and its Redis rebuild', () => {
  it('are one step for a booking that holds the event lock: Postgres and Redis agree on the total', async () => {
    const { eventId, orgId } = await svc.openEvent({ totalSlots: 10 });
    const changes = [
      { version: 3, previousTotalSlots: 10, totalSlots: 8 },
      { version: 4, previousTotalSlots: 8, totalSlots: 12 },
    ];
    for (const { version, previousTotalSlots, totalSlots } of changes) {
      // A booking batch in flight holds the event lock shared; what it reads under the lock, the
      // event from Postgres and the free seats from Redis, must describe the same capacity.
      const seen: { postgres?: number; redis?: number } = {};
      const batch = await holdLock(
        svc.db,
        (trx) => lockEventShared(trx, eventId, 5_000),
        async (trx) => {
          seen.postgres = (await findEvent(trx, eventId))?.totalSlots;
          seen.redis = (await svc.ctx.inventory.availability(eventId))?.totalSlots;
        },
      );
      await svc.publish(
        'catalog.event_capacity_changed',
        { eventId, orgId, previousTotalSlots, totalSlots },
        { type: 'event', id: eventId, version },
      );
      // The change (or its rebuild) waits for the batch's lock.
      await advisoryLockAwaited(svc.db, 'ExclusiveLock');
      await batch.release();
      expect(seen.redis).toBe(seen.postgres);

      await eventually(
        async () => (await svc.ctx.inventory.availability(eventId))?.totalSlots === totalSlots,
        { what: `Redis at ${totalSlots} seats` },
      );
      await expectConsistent(svc, eventId, totalSlots, 'fifo');
    }
  });
});
