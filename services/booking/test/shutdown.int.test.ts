import { queueState } from '@happening/messaging/testing';
import { eventually, startInfra, startTokenIssuer } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEvent } from '../src/modules/inventory/event-inventory.repository.ts';
import { startBookingService } from '../src/service.ts';
import { type Booking, configOn, eventSnapshot, publishedEvent, startBooking } from './harness.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

// service.ts calls runtime.stopTaking() from runService's onDrain, as SIGTERM arrives.
describe('booking shutdown', () => {
  it('takes no catalog event once its consumer stops taking: the replicas staying get it', async () => {
    const before = eventSnapshot();
    await svc.deliver(...publishedEvent(before));

    await svc.runtime.stopTaking();
    const leaving = eventSnapshot();
    const envelope = await svc.publish(...publishedEvent(leaving));
    // Another replica's consumer: had booking's still been taking, it would have had the message
    // the moment it was published, and this one would wait in vain.
    const taken: string[] = [];
    const other = await svc.broker.consume({
      queue: 'booking.events',
      handler: async (event) => {
        taken.push(event.id);
      },
    });
    try {
      await eventually(() => taken.includes(envelope.id), { what: 'the other replica took it' });
    } finally {
      await other.cancel();
    }
    const inbox = await svc.db
      .selectFrom('inbox')
      .select('message_id')
      .where('message_id', '=', envelope.id)
      .execute();
    expect(inbox).toEqual([]);
    expect(await findEvent(svc.db, leaving.eventId)).toBeUndefined();
    expect(await findEvent(svc.db, before.eventId)).toBeDefined();
  });

  it('stops consuming as its shutdown starts, while /readyz fails and the drain goes on', async () => {
    const infra = await startInfra();
    const issuer = await startTokenIssuer();
    const service = await startBookingService(
      // A drain long enough for the checks below on a loaded machine; the test waits it out once.
      configOn(infra, issuer, { RUN_MIGRATIONS: 'true', SHUTDOWN_DRAIN_MS: '3000' }),
    );
    const consumers = async () => (await queueState(infra.amqpUrl, 'booking.events')).consumerCount;
    const readiness = async () => (await fetch(`${service.address}/readyz`)).status;
    try {
      expect(await consumers()).toBe(1);
      const stopped = service.stop();
      expect(await readiness()).toBe(503);
      await eventually(async () => (await consumers()) === 0, { what: 'the consumer gone' });
      // Gone while still draining, not after the drain: the listener is up and tells the load
      // balancer to go elsewhere.
      expect(await readiness()).toBe(503);
      await stopped;
    } finally {
      await service.stop().catch(() => undefined);
      await issuer.stop();
      await infra.stop();
    }
  });
});
