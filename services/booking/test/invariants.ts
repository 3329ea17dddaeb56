import { eventually } from '@happening/testkit';
import { expect } from 'vitest';
import { inventoryKeys } from '../src/redis/inventory.keys.ts';
import type { Booking } from './harness.ts';

/**
 * Checks one event end to end: no seat held twice, nothing oversold, Redis agrees with Postgres
 * (free seats = all seats minus booked, waitlist = waiting bookings by number), and the waitlist
 * state respects the policy (fifo: the head does not fit; first_fit: nobody waiting fits).
 */
export async function expectConsistent(
  svc: Booking,
  eventId: string,
  totalSlots: number,
  policy: 'fifo' | 'first_fit',
) {
  const seats = await svc.db
    .selectFrom('booking_seats')
    .select(['seat_no', 'booking_id'])
    .where('event_id', '=', eventId)
    .where('status', '=', 'booked')
    .execute();
  const seatNos = seats.map((s) => s.seat_no);
  expect(new Set(seatNos).size).toBe(seatNos.length);
  expect(seatNos.length).toBeLessThanOrEqual(totalSlots);

  const bookings = await svc.db
    .selectFrom('bookings')
    .selectAll()
    .where('event_id', '=', eventId)
    .execute();
  const confirmed = bookings.filter((b) => b.status === 'confirmed');
  expect(confirmed.reduce((n, b) => n + b.seats, 0)).toBe(seatNos.length);

  const keys = inventoryKeys(eventId);
  // No rebuild is left pending (read as missing by every request) once its transaction is over.
  await eventually(async () => (await svc.redis.hget(keys.meta, 'pending')) === null, {
    what: "the event's last rebuild marked committed",
  });
  const free = (await svc.redis.zrange(keys.free, 0, -1)).map(Number);
  const expectedFree = Array.from({ length: totalSlots }, (_, i) => i + 1).filter(
    (s) => !seatNos.includes(s),
  );
  expect(free.sort((a, b) => a - b)).toEqual(expectedFree);
  // Nothing more is sold once the event holds its total, however its seats are numbered.
  const sellable = Math.max(0, totalSlots - seatNos.length);
  expect(Number(await svc.redis.get(keys.slots))).toBe(sellable);

  const waiting = bookings
    .filter((b) => b.status === 'waiting')
    .sort((a, b) => (a.waiting_number ?? 0) - (b.waiting_number ?? 0));
  expect(await svc.redis.zrange(keys.waitlist, 0, -1)).toEqual(waiting.map((w) => w.id));

  // The counts of who waits for how many seats, where the scripts vouch for them.
  const meta = await svc.redis.hgetall(keys.meta);
  if (meta.wseq === meta.seq) {
    const counted: Record<string, number> = {};
    for (const [field, count] of Object.entries(meta))
      if (/^w\d+$/.test(field)) counted[field.slice(1)] = Number(count);
    const actual: Record<string, number> = {};
    for (const w of waiting) actual[String(w.seats)] = (actual[String(w.seats)] ?? 0) + 1;
    expect(counted).toEqual(actual);
    expect(Number(meta.wcount)).toBe(waiting.length);
  }

  if (policy === 'fifo' && waiting[0]) expect(waiting[0].seats).toBeGreaterThan(sellable);
  if (policy === 'first_fit') for (const w of waiting) expect(w.seats).toBeGreaterThan(sellable);
  return { bookings, seats: seatNos, free: sellable };
}
