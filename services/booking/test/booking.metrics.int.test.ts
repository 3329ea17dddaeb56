import { eventually } from '@happening/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import { type Booking, startBooking } from './harness.ts';

let svc: Booking;

beforeAll(async () => {
  svc = await startBooking();
});

afterAll(async () => {
  await svc?.stop();
});

/** Reads `/metrics` as Prometheus scrapes it. */
async function scrape(): Promise<string> {
  const response = await svc.call(undefined, 'GET', '/metrics');
  expect(response.statusCode).toBe(200);
  return response.body;
}

/** The value of one series in an exposition, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const outcome = (name: string) => `happening_bookings_total{outcome="${name}"}`;

describe('booking metrics on /metrics', () => {
  it('booking, waitlisting, cancelling and promoting move the counters and the waitlist gauge', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 2 });
    const waitlist = `happening_waitlist_length{event_id="${eventId}"}`;
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    const before = await scrape();

    const first = await svc.call(a, 'POST', `/v1/events/${eventId}/bookings`, { seats: 2 });
    await svc.call(b, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    await svc.call(c, 'POST', `/v1/events/${eventId}/bookings`, { seats: 1 });
    const booked = await scrape();
    expect(sample(booked, outcome('confirmed')) - sample(before, outcome('confirmed'))).toBe(1);
    expect(sample(booked, outcome('waitlisted')) - sample(before, outcome('waitlisted'))).toBe(2);
    expect(sample(booked, waitlist)).toBe(2);

    const cancel = await svc.call(a, 'POST', `/v1/bookings/${first.json().id}/cancel`, {});
    expect(cancel.statusCode).toBe(200);
    // a second cancellation changes nothing, so it is not counted
    await svc.call(a, 'POST', `/v1/bookings/${first.json().id}/cancel`, {});
    const cancelled = await scrape();
    expect(sample(cancelled, outcome('cancelled')) - sample(before, outcome('cancelled'))).toBe(1);
    expect(sample(cancelled, outcome('promoted')) - sample(before, outcome('promoted'))).toBe(2);

    // both waiting bookings were promoted: the coalesced availability update drops the series
    await eventually(async () => !(await scrape()).includes(waitlist), {
      what: 'waitlist gauge cleared',
    });
  });

  it('each scrape reads the waitlists again, so one another replica changed is not shown stale', async () => {
    const { eventId } = await svc.openEvent({ totalSlots: 1 });
    const waitlist = `happening_waitlist_length{event_id="${eventId}"}`;
    const [a, b, c] = await Promise.all([svc.user(), svc.user(), svc.user()]);
    await svc.book(a, eventId, 1);
    const waiting = [
      (await svc.book(b, eventId, 1)).json().id,
      (await svc.book(c, eventId, 1)).json().id,
    ];
    await eventually(async () => sample(await scrape(), waitlist) === 2, {
      what: 'two waiting',
    });

    // Another replica's cancellations leave this process's gauge untouched: only Redis changes.
    const keys = inventoryKeys(eventId);
    await svc.redis.multi().zrem(keys.waitlist, waiting[0]).hdel(keys.waiting, waiting[0]).exec();
    expect(sample(await scrape(), waitlist)).toBe(1);
    await svc.redis.multi().zrem(keys.waitlist, waiting[1]).hdel(keys.waiting, waiting[1]).exec();
    expect(await scrape()).not.toContain(waitlist);
  });
});
