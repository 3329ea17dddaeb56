import { randomUUID } from 'node:crypto';
import { eventually, type ServerHandle, startRedis, startTcpProxy } from '@happening/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Inventory, type InventorySnapshot, StaleInventoryCall } from './inventory.client.ts';
import { answerKey, bookingLockKey, inventoryKeys, scriptKeys } from './inventory.keys.ts';
import { ANSWER_RETENTION_SECONDS, STALE_CALL_SECONDS } from './inventory.lua.ts';

let server: ServerHandle;
let redis: Redis;
let inventory: Inventory;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  inventory = new Inventory(redis);
});

afterAll(async () => {
  await redis.quit();
  await server.stop();
});

const empty = (totalSlots: number, policy: 'fifo' | 'first_fit'): InventorySnapshot => ({
  totalSlots,
  policy,
  lastWaitingNumber: 0,
  lastAcceptedSeq: 0,
  bookedSeats: [],
  waiting: [],
});

/** A rebuild whose transaction committed, as reconciliation makes one; returns its promotions. */
async function rebuildCommitted(eventId: string, snapshot: InventorySnapshot) {
  const { generation, promotions } = await inventory.rebuild(eventId, snapshot);
  await inventory.committed(eventId, generation);
  return promotions;
}

async function openEvent(totalSlots: number, policy: 'fifo' | 'first_fit' = 'fifo') {
  const eventId = randomUUID();
  await rebuildCommitted(eventId, empty(totalSlots, policy));
  return eventId;
}

/** Releases as cancellations whose transactions all committed: one token, never another's. */
const RELEASE_TOKEN = randomUUID();
const anyKeys = { redisGeneration: null, lastRelease: null };

const reserve = (eventId: string, seats: number, seatNumbers?: number[]) =>
  inventory.reserve(eventId, { bookingId: randomUUID(), seats, seatNumbers }, null);

describe('inventory scripts against real Redis', () => {
  it('keys carry the literal hash tag', () => {
    expect(inventoryKeys('42').slots).toBe('event:{42}:slots');
  });

  it("puts every key of an event's scripts and locks in one cluster slot: the first {…} is the event id", () => {
    const eventId = randomUUID();
    const keys = [
      ...scriptKeys(eventId),
      answerKey(eventId, 'reserve:some-booking'),
      bookingLockKey(eventId, 'some-user'),
    ];
    // Redis Cluster hashes only what is between a key's first '{' and the next '}'.
    const hashTagOf = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    expect(keys.map(hashTagOf)).toEqual(keys.map(() => eventId));
  });

  it('confirms with the lowest free seats, then waits with growing numbers', async () => {
    const eventId = await openEvent(5);
    expect(await reserve(eventId, 2)).toMatchObject({
      kind: 'confirmed',
      acceptedSeq: 1,
      seatNumbers: [1, 2],
    });
    expect(await reserve(eventId, 3)).toMatchObject({
      kind: 'confirmed',
      acceptedSeq: 2,
      seatNumbers: [3, 4, 5],
    });
    expect(await reserve(eventId, 1)).toMatchObject({
      kind: 'waiting',
      acceptedSeq: 3,
      waitingNumber: 1,
      position: 1,
    });
    expect(await reserve(eventId, 1)).toMatchObject({
      kind: 'waiting',
      acceptedSeq: 4,
      waitingNumber: 2,
      position: 2,
    });
    expect(await inventory.availability(eventId, null)).toEqual({
      totalSlots: 5,
      availableSlots: 0,
      waitlistLength: 2,
    });
  });

  it('takes exactly the seats asked, or refuses when one is taken, writing nothing', async () => {
    const eventId = await openEvent(10);
    expect(await reserve(eventId, 2, [7, 9])).toMatchObject({
      kind: 'confirmed',
      seatNumbers: [7, 9],
    });
    expect(await reserve(eventId, 2, [6, 7])).toEqual({ kind: 'SEATS_TAKEN' });
    expect(await inventory.availability(eventId, null)).toMatchObject({
      availableSlots: 8,
      waitlistLength: 0,
    });
    expect(await reserve(eventId, 1)).toMatchObject({ seatNumbers: [1] });
  });

  it('fifo: a newcomer waits while anyone waits, and a blocked head blocks those behind it', async () => {
    const eventId = await openEvent(4, 'fifo');
    const a = randomUUID();
    await inventory.reserve(eventId, { bookingId: a, seats: 3 }, null); // seats 1-3
    const big = randomUUID();
    const small = randomUUID();
    expect(await inventory.reserve(eventId, { bookingId: big, seats: 2 }, null)).toMatchObject({
      kind: 'waiting',
    });
    // one seat is free, but fifo keeps the newcomer behind the waiting head
    expect(await inventory.reserve(eventId, { bookingId: small, seats: 1 }, null)).toMatchObject({
      kind: 'waiting',
      position: 2,
    });
    // releasing one seat leaves 2 free: the head (2 seats) fits and goes first
    const released = await inventory.release(
      eventId,
      {
        bookingId: a,
        status: 'confirmed',
        seatNumbers: [1],
      },
      anyKeys,
      RELEASE_TOKEN,
    );
    expect(released).toMatchObject({
      kind: 'OK',
      promotions: [{ bookingId: big, seatNumbers: [1, 4] }],
    });
    expect(await inventory.waitlistPosition(eventId, small)).toBe(1);
  });

  it('fifo: a head that does not fit stops promotion', async () => {
    const eventId = await openEvent(2, 'fifo');
    const holder = randomUUID();
    await inventory.reserve(eventId, { bookingId: holder, seats: 2 }, null);
    const head = randomUUID();
    await inventory.reserve(eventId, { bookingId: head, seats: 2 }, null);
    await inventory.reserve(eventId, { bookingId: randomUUID(), seats: 1 }, null);
    const released = await inventory.release(
      eventId,
      {
        bookingId: holder,
        status: 'confirmed',
        seatNumbers: [2],
      },
      anyKeys,
      RELEASE_TOKEN,
    );
    expect(released).toMatchObject({ kind: 'OK', promotions: [] });
    expect(await inventory.availability(eventId, null)).toMatchObject({
      availableSlots: 1,
      waitlistLength: 2,
    });
  });

  it('first_fit: promotes in order skipping those that do not fit; newcomers take only what is left', async () => {
    const eventId = await openEvent(3, 'first_fit');
    const holder = randomUUID();
    await inventory.reserve(eventId, { bookingId: holder, seats: 3 }, null);
    const big = randomUUID();
    const small = randomUUID();
    const small2 = randomUUID();
    await inventory.reserve(eventId, { bookingId: big, seats: 3 }, null);
    await inventory.reserve(eventId, { bookingId: small, seats: 1 }, null);
    await inventory.reserve(eventId, { bookingId: small2, seats: 1 }, null);
    const released = await inventory.release(
      eventId,
      {
        bookingId: holder,
        status: 'confirmed',
        seatNumbers: [2, 3],
      },
      anyKeys,
      RELEASE_TOKEN,
    );
    expect(released).toMatchObject({
      kind: 'OK',
      promotions: [
        { bookingId: small, seatNumbers: [2] },
        { bookingId: small2, seatNumbers: [3] },
      ],
    });
    expect(await inventory.waitlistPosition(eventId, big)).toBe(1);
    // with nothing free, first_fit waits the newcomer too
    expect(await reserve(eventId, 1)).toMatchObject({ kind: 'waiting', position: 2 });
  });

  it('first_fit: a newcomer is confirmed from seats the waiting ones cannot use', async () => {
    const eventId = await openEvent(3, 'first_fit');
    const holder = randomUUID();
    await inventory.reserve(eventId, { bookingId: holder, seats: 3 }, null);
    await reserve(eventId, 3); // waits
    await inventory.release(
      eventId,
      { bookingId: holder, status: 'confirmed', seatNumbers: [1] },
      anyKeys,
      RELEASE_TOKEN,
    );
    expect(await reserve(eventId, 1)).toMatchObject({ kind: 'confirmed', seatNumbers: [1] });
  });

  /** The meta hash's counts of who waits for how many seats, as the scripts keep them. */
  async function waitingCounts(eventId: string) {
    const meta = await redis.hgetall(inventoryKeys(eventId).meta);
    const bySeats = Object.fromEntries(
      Object.entries(meta)
        .filter(([field]) => /^w\d+$/.test(field))
        .map(([field, count]) => [field.slice(1), Number(count)]),
    );
    return { bySeats, total: Number(meta.wcount), trusted: meta.wseq === meta.seq };
  }

  it('first_fit: keeps counts of who waits for how many seats through reserves, releases and promotions', async () => {
    const eventId = await openEvent(4, 'first_fit');
    const holder = randomUUID();
    await inventory.reserve(eventId, { bookingId: holder, seats: 4 }, null);
    const [two, three, twoMore] = [randomUUID(), randomUUID(), randomUUID()];
    await inventory.reserve(eventId, { bookingId: two, seats: 2 }, null);
    await inventory.reserve(eventId, { bookingId: three, seats: 3 }, null);
    await inventory.reserve(eventId, { bookingId: twoMore, seats: 2 }, null);
    expect(await waitingCounts(eventId)).toEqual({
      bySeats: { '2': 2, '3': 1 },
      total: 3,
      trusted: true,
    });
    // One seat free: nobody waiting fits, nobody is promoted.
    expect(
      await inventory.release(
        eventId,
        {
          bookingId: holder,
          status: 'confirmed',
          seatNumbers: [1],
        },
        anyKeys,
        RELEASE_TOKEN,
      ),
    ).toMatchObject({ kind: 'OK', promotions: [] });
    await inventory.release(
      eventId,
      { bookingId: three, status: 'waiting', seatNumbers: [] },
      anyKeys,
      RELEASE_TOKEN,
    );
    // Two more free: the first two-seat booking is promoted.
    expect(
      await inventory.release(
        eventId,
        {
          bookingId: holder,
          status: 'confirmed',
          seatNumbers: [2, 3],
        },
        anyKeys,
        RELEASE_TOKEN,
      ),
    ).toMatchObject({ kind: 'OK', promotions: [{ bookingId: two, seatNumbers: [1, 2] }] });
    expect(await waitingCounts(eventId)).toEqual({ bySeats: { '2': 1 }, total: 1, trusted: true });
    // A rebuild counts afresh.
    await rebuildCommitted(eventId, {
      ...empty(4, 'first_fit'),
      lastWaitingNumber: 3,
      lastAcceptedSeq: 4,
      bookedSeats: [1, 2, 4],
      waiting: [{ bookingId: twoMore, seats: 2, waitingNumber: 3 }],
    });
    expect(await waitingCounts(eventId)).toEqual({ bySeats: { '2': 1 }, total: 1, trusted: true });
  });

  it('first_fit: a booking put on the waitlist behind the counts (an older replica) is still promoted', async () => {
    const eventId = await openEvent(2, 'first_fit');
    const holder = randomUUID();
    await inventory.reserve(eventId, { bookingId: holder, seats: 2 }, null);
    await reserve(eventId, 2); // counted: waits for two
    // As a replica of the release before counts reserves: waitlist, seats, number and seq only.
    const keys = inventoryKeys(eventId);
    const uncounted = randomUUID();
    const number = await redis.hincrby(keys.meta, 'next', 1);
    await redis.hincrby(keys.meta, 'seq', 1);
    await redis.zadd(keys.waitlist, number, uncounted);
    await redis.hset(keys.waiting, uncounted, 1);
    expect((await waitingCounts(eventId)).trusted).toBe(false);
    expect(
      await inventory.release(
        eventId,
        {
          bookingId: holder,
          status: 'confirmed',
          seatNumbers: [1],
        },
        anyKeys,
        RELEASE_TOKEN,
      ),
    ).toMatchObject({ kind: 'OK', promotions: [{ bookingId: uncounted, seatNumbers: [1] }] });
  });

  it('cancelling a waiting booking removes it and may unblock fifo', async () => {
    const eventId = await openEvent(3, 'fifo');
    await reserve(eventId, 2); // 1,2
    const head = randomUUID();
    await inventory.reserve(eventId, { bookingId: head, seats: 2 }, null);
    const next = randomUUID();
    await inventory.reserve(eventId, { bookingId: next, seats: 1 }, null);
    const released = await inventory.release(
      eventId,
      {
        bookingId: head,
        status: 'waiting',
        seatNumbers: [],
      },
      anyKeys,
      RELEASE_TOKEN,
    );
    expect(released).toMatchObject({
      kind: 'OK',
      promotions: [{ bookingId: next, seatNumbers: [3] }],
    });
  });

  it('compensation returns exactly what a reserve took', async () => {
    const eventId = await openEvent(4);
    const id = randomUUID();
    const before = await inventory.availability(eventId, null);
    const taken = await inventory.reserve(eventId, { bookingId: id, seats: 2 }, null);
    if (taken.kind !== 'confirmed') throw new Error('expected confirmed');
    await inventory.compensate(eventId, {
      bookingId: id,
      status: 'confirmed',
      seatNumbers: taken.seatNumbers,
    });
    expect(await inventory.availability(eventId, null)).toEqual(before);
    expect(await redis.zrange(inventoryKeys(eventId).free, 0, -1)).toEqual(['1', '2', '3', '4']);
  });

  it('a compensation of a decision taken before a rebuild gives nothing back', async () => {
    const eventId = await openEvent(2);
    const taken = await inventory.reserve(eventId, { bookingId: randomUUID(), seats: 1 }, null);
    if (taken.kind !== 'confirmed') throw new Error('expected confirmed');
    // Rebuilt from Postgres, where another booking holds the seat the decision took.
    await rebuildCommitted(eventId, { ...empty(2, 'fifo'), bookedSeats: taken.seatNumbers });
    const given = await inventory.compensate(eventId, {
      bookingId: 'lost',
      status: 'confirmed',
      seatNumbers: taken.seatNumbers,
      generation: taken.generation,
    });
    expect(given).toMatchObject({ kind: 'OK', promotions: [] });
    expect(await redis.zrange(inventoryKeys(eventId).free, 0, -1)).toEqual(['2']);
  });

  it('answers MISSING when keys are gone, and rebuild restores free seats and waitlist', async () => {
    const eventId = randomUUID();
    expect(await reserve(eventId, 1)).toEqual({ kind: 'MISSING' });
    expect(
      await inventory.release(
        eventId,
        { bookingId: 'x', status: 'none', seatNumbers: [] },
        anyKeys,
        RELEASE_TOKEN,
      ),
    ).toEqual({
      kind: 'MISSING',
    });
    const w1 = randomUUID();
    const w2 = randomUUID();
    const promotions = await rebuildCommitted(eventId, {
      totalSlots: 5,
      policy: 'fifo',
      lastWaitingNumber: 9,
      lastAcceptedSeq: 20,
      bookedSeats: [1, 2, 4],
      waiting: [
        { bookingId: w1, seats: 3, waitingNumber: 8 },
        { bookingId: w2, seats: 1, waitingNumber: 9 },
      ],
    });
    expect(promotions).toEqual([]);
    expect(await redis.zrange(inventoryKeys(eventId).free, 0, -1)).toEqual(['3', '5']);
    expect(await inventory.waitlistPosition(eventId, w2)).toBe(2);
    expect(await reserve(eventId, 1)).toMatchObject({
      kind: 'waiting',
      waitingNumber: 10,
      acceptedSeq: 21,
    });
  });

  it('keys a rebuild made are decided on only once its transaction committed', async () => {
    const eventId = await openEvent(2);
    const holder = randomUUID();
    await inventory.reserve(eventId, { bookingId: holder, seats: 2 }, null);
    const waiting = randomUUID();
    await inventory.reserve(eventId, { bookingId: waiting, seats: 1 }, null);
    // Rebuilt for a raised capacity whose transaction has not committed (and may never).
    const rebuilt = await inventory.rebuild(eventId, {
      ...empty(4, 'fifo'),
      lastWaitingNumber: 1,
      lastAcceptedSeq: 2,
      bookedSeats: [1, 2],
      waiting: [{ bookingId: waiting, seats: 1, waitingNumber: 1 }],
    });
    expect(rebuilt.promotions).toMatchObject([{ bookingId: waiting, seatNumbers: [3] }]);
    // Everyone else finds them pending, and decides nothing.
    expect(await reserve(eventId, 1)).toEqual({ kind: 'MISSING' });
    expect(
      await inventory.release(
        eventId,
        {
          bookingId: holder,
          status: 'confirmed',
          seatNumbers: [1],
        },
        anyKeys,
        RELEASE_TOKEN,
      ),
    ).toEqual({ kind: 'MISSING' });
    expect(await inventory.exists(eventId)).toBe(false);
    expect(await inventory.availability(eventId, null)).toBeUndefined();
    // The rebuild's own calls (naming its generation) still act: a promotion Postgres refused
    // goes back.
    expect(
      await inventory.compensate(eventId, {
        bookingId: waiting,
        status: 'confirmed',
        seatNumbers: [3],
        generation: rebuilt.generation,
      }),
    ).toMatchObject({ kind: 'OK', promotions: [] });
    // Another generation's word does not open them; the rebuild's own does.
    await inventory.committed(eventId, randomUUID());
    expect(await inventory.exists(eventId)).toBe(false);
    await inventory.committed(eventId, rebuilt.generation);
    expect(await inventory.exists(eventId)).toBe(true);
    expect(await inventory.availability(eventId, null)).toEqual({
      totalSlots: 4,
      availableSlots: 2,
      waitlistLength: 0,
    });
    expect(await reserve(eventId, 1)).toMatchObject({ kind: 'confirmed', seatNumbers: [3] });
  });

  it('decides only on keys of the generation Postgres records, marking a recorded rebuild committed', async () => {
    const eventId = randomUUID();
    const holder = randomUUID();
    const rebuilt = await inventory.rebuild(eventId, { ...empty(3, 'fifo'), bookedSeats: [1] });
    const ask = (trusted: string | null) =>
      inventory.reserve(eventId, { bookingId: randomUUID(), seats: 1 }, trusted);
    const leave = (trusted: string | null) =>
      inventory.release(
        eventId,
        { bookingId: holder, status: 'confirmed', seatNumbers: [1] },
        { redisGeneration: trusted, lastRelease: null },
        RELEASE_TOKEN,
      );
    // Another generation recorded (a rebuild since, or keys Postgres no longer vouches for): the
    // keys are as good as missing, pending or not.
    const other = `untrusted:${randomUUID()}`;
    expect(await inventory.availability(eventId, other)).toBeUndefined();
    expect(await ask(other)).toEqual({ kind: 'MISSING' });
    expect(await leave(other)).toEqual({ kind: 'MISSING' });
    // Their own generation recorded: the rebuild committed, so its mark goes and they are used.
    expect(await ask(rebuilt.generation)).toMatchObject({ kind: 'confirmed', seatNumbers: [2] });
    expect(await inventory.keysOf(eventId)).toEqual({ generation: rebuilt.generation });
    expect(await inventory.availability(eventId, rebuilt.generation)).toMatchObject({
      availableSlots: 1,
    });
    expect(await ask(other)).toEqual({ kind: 'MISSING' });
    expect(await leave(other)).toEqual({ kind: 'MISSING' });
    expect(await leave(rebuilt.generation)).toMatchObject({ kind: 'OK', promotions: [] });
    // None recorded (keys from before generations were): whichever keys there are.
    expect(await ask(null)).toMatchObject({ kind: 'confirmed', seatNumbers: [1] });
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 1 });
  });

  it("releases only on keys whose last release is the one Postgres records, or the transaction's own", async () => {
    const eventId = await openEvent(3);
    const [holder, other, third, waiting] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    for (const bookingId of [holder, other, third, waiting]) {
      await inventory.reserve(eventId, { bookingId, seats: 1 }, null);
    }
    const leave = (bookingId: string, seat: number, lastRelease: string | null, token: string) =>
      inventory.release(
        eventId,
        { bookingId, status: 'confirmed', seatNumbers: [seat] },
        { redisGeneration: null, lastRelease },
        token,
      );
    // A release whose transaction then failed: Postgres still records none.
    const failed = randomUUID();
    expect(await leave(holder, 1, null, failed)).toMatchObject({
      kind: 'OK',
      promotions: [{ bookingId: waiting }],
    });
    expect(await inventory.keysOf(eventId)).toMatchObject({ lastRelease: failed });
    // The next cancellation, naming what Postgres records, finds the keys holding that release.
    expect(await leave(other, 2, null, randomUUID())).toEqual({ kind: 'MISSING' });
    // Had it committed, the next names it; a transaction's second release names its own.
    const next = randomUUID();
    expect(await leave(other, 2, failed, next)).toMatchObject({ kind: 'OK' });
    expect(await leave(third, 3, failed, next)).toMatchObject({ kind: 'OK' });
    expect(await inventory.keysOf(eventId)).toMatchObject({ lastRelease: next });
    // Rebuilt keys have run no release yet: any recorded one will do.
    await rebuildCommitted(eventId, { ...empty(3, 'fifo'), bookedSeats: [1] });
    expect(await leave(waiting, 1, failed, randomUUID())).toMatchObject({ kind: 'OK' });
  });

  it('rebuild with raised capacity promotes at once; lowered capacity never goes below zero', async () => {
    const eventId = randomUUID();
    const w = randomUUID();
    const snapshot: InventorySnapshot = {
      totalSlots: 4,
      policy: 'fifo',
      lastWaitingNumber: 1,
      lastAcceptedSeq: 2,
      bookedSeats: [1, 2, 3, 4],
      waiting: [{ bookingId: w, seats: 2, waitingNumber: 1 }],
    };
    expect(await rebuildCommitted(eventId, snapshot)).toEqual([]);
    expect(await rebuildCommitted(eventId, { ...snapshot, totalSlots: 6 })).toMatchObject([
      { bookingId: w, seatNumbers: [5, 6] },
    ]);
    await rebuildCommitted(eventId, { ...snapshot, totalSlots: 2, waiting: [] });
    expect(await inventory.availability(eventId, null)).toEqual({
      totalSlots: 2,
      availableSlots: 0,
      waitlistLength: 0,
    });
    // a released seat beyond the lowered capacity does not come back
    await inventory.release(
      eventId,
      { bookingId: 'b', status: 'confirmed', seatNumbers: [4] },
      anyKeys,
      RELEASE_TOKEN,
    );
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 0 });
  });

  it('seats booked beyond a lowered capacity keep as many free seats unsold until released', async () => {
    const eventId = randomUUID();
    const [c, d] = [randomUUID(), randomUUID()];
    // Four seats, 3 and 4 booked, capacity lowered to 2: seats 1 and 2 are free but the event
    // already holds two bookings' worth, so nothing may be sold.
    await rebuildCommitted(eventId, {
      totalSlots: 2,
      policy: 'fifo',
      lastWaitingNumber: 0,
      lastAcceptedSeq: 2,
      bookedSeats: [3, 4],
      waiting: [],
    });
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 0 });
    // Seat 1 is free, but not for sale: asked for by number, it is taken.
    expect(
      await inventory.reserve(
        eventId,
        { bookingId: randomUUID(), seats: 1, seatNumbers: [1] },
        null,
      ),
    ).toEqual({ kind: 'SEATS_TAKEN' });
    expect(await inventory.reserve(eventId, { bookingId: c, seats: 1 }, null)).toMatchObject({
      kind: 'waiting',
      waitingNumber: 1,
    });
    expect(await inventory.reserve(eventId, { bookingId: d, seats: 1 }, null)).toMatchObject({
      kind: 'waiting',
    });
    // Each seat released beyond the capacity lets one free seat be sold, once its cancellation
    // committed: released before, nothing is sold on it.
    for (const [seat, promoted] of [
      [4, c],
      [3, d],
    ] as const) {
      const released = await inventory.release(
        eventId,
        {
          bookingId: 'b',
          status: 'confirmed',
          seatNumbers: [seat],
        },
        anyKeys,
        RELEASE_TOKEN,
      );
      expect(released).toMatchObject({ kind: 'OK', promotions: [] });
      const generation = (released as { generation: string }).generation;
      expect(
        await inventory.settleBeyondTotal(eventId, {
          bookingId: 'b',
          seatNumbers: [seat],
          generation,
        }),
      ).toMatchObject({ kind: 'OK', promotions: [{ bookingId: promoted }] });
    }
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 0 });
  });

  it('a give-back beyond a lowered capacity does not free what a booking beyond it holds', async () => {
    const eventId = randomUUID();
    // Capacity lowered to 2 while seat 3 is booked; seat 4 was taken by a decision whose booking
    // then failed, and is given back after the rebuild.
    await rebuildCommitted(eventId, {
      totalSlots: 2,
      policy: 'fifo',
      lastWaitingNumber: 0,
      lastAcceptedSeq: 2,
      bookedSeats: [3],
      waiting: [],
    });
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 1 });
    await inventory.compensate(eventId, {
      bookingId: 'failed',
      status: 'confirmed',
      seatNumbers: [4],
    });
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 1 });
    // Seat 3's booking cancelled: now the event holds nothing beyond its capacity.
    await inventory.release(
      eventId,
      {
        bookingId: 'holder',
        status: 'confirmed',
        seatNumbers: [3],
      },
      anyKeys,
      RELEASE_TOKEN,
    );
    await inventory.settleBeyondTotal(eventId, {
      bookingId: 'holder',
      seatNumbers: [3],
      generation: (await inventory.keysOf(eventId))?.generation ?? '',
    });
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 2 });
  });

  it.each([
    ['named', false],
    ['unnamed (from before generations)', true],
  ])('settles nothing once a rebuild replaced the keys, %s, the release was made on', async (_, unnamed) => {
    const eventId = randomUUID();
    // Capacity 2, seats 3 and 4 booked beyond it: nothing for sale.
    const snapshot = {
      totalSlots: 2,
      policy: 'fifo' as const,
      lastWaitingNumber: 0,
      lastAcceptedSeq: 2,
      bookedSeats: [3, 4],
      waiting: [],
    };
    await rebuildCommitted(eventId, snapshot);
    if (unnamed) await redis.hdel(inventoryKeys(eventId).meta, 'gen');
    const released = await inventory.release(
      eventId,
      {
        bookingId: 'holder',
        status: 'confirmed',
        seatNumbers: [3],
      },
      anyKeys,
      RELEASE_TOKEN,
    );
    if (released.kind !== 'OK') throw new Error('keys missing');
    if (unnamed) expect(released.generation).toBe('');
    // Rebuilt from Postgres, where seat 3's cancellation committed: one seat beyond, one for sale.
    await rebuildCommitted(eventId, { ...snapshot, bookedSeats: [4] });
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 1 });
    await inventory.settleBeyondTotal(eventId, {
      bookingId: 'holder',
      seatNumbers: [3],
      generation: released.generation,
    });
    expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 1 });
  });

  it('answers a call sent again as the first time, deciding nothing more', async () => {
    const eventId = await openEvent(3);
    const keys = scriptKeys(eventId);
    // As the client re-sends a call whose answer was lost with its connection: the same arguments.
    const sentAt = Math.floor(Date.now() / 1000);
    const reserveCall = [
      ...keys,
      answerKey(eventId, randomUUID()),
      randomUUID(),
      2,
      '',
      '',
      sentAt,
    ];
    const first = await redis.inventoryReserve(...reserveCall);
    expect(first).toEqual(['confirmed', 1, expect.any(String), '1', '2']);
    expect(await redis.inventoryReserve(...reserveCall)).toEqual(first);
    const holder = randomUUID();
    await inventory.reserve(eventId, { bookingId: holder, seats: 1 }, null); // seat 3
    const head = randomUUID();
    await inventory.reserve(eventId, { bookingId: head, seats: 1 }, null); // waits
    const second = randomUUID();
    await inventory.reserve(eventId, { bookingId: second, seats: 1 }, null); // waits
    expect(await inventory.availability(eventId, null)).toEqual({
      totalSlots: 3,
      availableSlots: 0,
      waitlistLength: 2,
    });

    const releaseCall = [
      ...keys,
      answerKey(eventId, randomUUID()),
      holder,
      'confirmed',
      '3',
      '',
      '',
      '',
      RELEASE_TOKEN,
      sentAt,
    ];
    expect(await redis.inventoryRelease(...releaseCall)).toEqual([
      'OK',
      expect.any(String),
      `${head}:3`,
    ]);
    // Sent again, it frees no seat and promotes no one: `second` stays first in line.
    expect(await redis.inventoryRelease(...releaseCall)).toEqual([
      'OK',
      expect.any(String),
      `${head}:3`,
    ]);
    expect(await inventory.availability(eventId, null)).toEqual({
      totalSlots: 3,
      availableSlots: 0,
      waitlistLength: 1,
    });
    expect(await inventory.waitlistPosition(eventId, second)).toBe(1);
  });

  it('runs nothing for a call sent too long ago to tell whether it ran, and says so', async () => {
    const eventId = await openEvent(3);
    const late = Math.floor(Date.now() / 1000) - STALE_CALL_SECONDS - 2;
    expect(
      await redis.inventoryReserve(
        ...scriptKeys(eventId),
        answerKey(eventId, randomUUID()),
        randomUUID(),
        1,
        '',
        '',
        late,
      ),
    ).toEqual(['STALE']);
    // The client sends its own clock's time: one far behind gets the same answer, as an error.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now - (STALE_CALL_SECONDS + 2) * 1000);
    try {
      await expect(reserve(eventId, 1)).rejects.toBeInstanceOf(StaleInventoryCall);
      await expect(
        inventory.release(
          eventId,
          { bookingId: randomUUID(), status: 'none', seatNumbers: [] },
          anyKeys,
          RELEASE_TOKEN,
        ),
      ).rejects.toBeInstanceOf(StaleInventoryCall);
    } finally {
      clock.mockRestore();
    }
    expect(await inventory.availability(eventId, null)).toEqual({
      totalSlots: 3,
      availableSlots: 3,
      waitlistLength: 0,
    });
    expect(await redis.hget(inventoryKeys(eventId).meta, 'seq')).toBe('0');
  });

  it('keeps each answer for the retention, then lets it expire', async () => {
    const eventId = await openEvent(3);
    const answer = answerKey(eventId, randomUUID());
    const call = [
      ...scriptKeys(eventId),
      answer,
      randomUUID(),
      1,
      '',
      '',
      Math.floor(Date.now() / 1000),
    ];
    const first = await redis.inventoryReserve(...call);
    const ttl = await redis.ttl(answer);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ANSWER_RETENTION_SECONDS);
    // Once it has expired, the same call would decide again: hence STALE for late calls.
    await redis.del(answer);
    expect(await redis.inventoryReserve(...call)).not.toEqual(first);
  });

  it('survives a flushed script cache (NOSCRIPT)', async () => {
    const eventId = await openEvent(2);
    await redis.script('FLUSH');
    expect(await reserve(eventId, 1)).toMatchObject({ kind: 'confirmed' });
  });

  it('the per-person lock rejects a second holder and is released only by its owner', async () => {
    const eventId = randomUUID();
    const lock = (userId: string, token: string) => ({ eventId, userId, token });
    // In one round trip, in order: the second request of `u` finds the first one's lock.
    expect(
      await inventory.lockAll([lock('u', 't1'), lock('u', 't2'), lock('v', 't4')], 5000),
    ).toEqual([true, false, true]);
    await inventory.unlock(eventId, 'u', 't2');
    expect(await inventory.lockAll([lock('u', 't3')], 5000)).toEqual([false]);
    await inventory.unlock(eventId, 'u', 't1');
    expect(await inventory.lockAll([lock('u', 't3')], 5000)).toEqual([true]);
  });

  it('the per-person lock expires with its TTL', async () => {
    const eventId = randomUUID();
    const holder = [{ eventId, userId: 'u', token: 't1' }];
    const next = [{ eventId, userId: 'u', token: 't2' }];
    // Long enough that the next call surely finds it held, however slow the machine.
    expect(await inventory.lockAll(holder, 1_000)).toEqual([true]);
    expect(await inventory.lockAll(next, 1_000)).toEqual([false]);
    // Never released by its holder (a crashed request): the next one gets it once it expired.
    await eventually(async () => (await inventory.lockAll(next, 5000))[0] === true);
    const ttl = await redis.pttl(`booking:{${eventId}}:u`);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('concurrent reserves never hand out a seat twice or exceed capacity', async () => {
    const eventId = await openEvent(50);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => reserve(eventId, (i % 4) + 1)),
    );
    const seats = results.flatMap((r) => (r.kind === 'confirmed' ? r.seatNumbers : []));
    expect(new Set(seats).size).toBe(seats.length);
    expect(seats.length).toBeLessThanOrEqual(50);
    const numbers = results.flatMap((r) => (r.kind === 'waiting' ? [r.waitingNumber] : []));
    expect(new Set(numbers).size).toBe(numbers.length);
  });
});

describe('a connection lost before the answer', () => {
  it('is re-sent by the client and decides once', async () => {
    const proxy = await startTcpProxy(server.url);
    const viaProxy = new Redis(proxy.url);
    try {
      const eventId = await openEvent(4);
      const proxied = new Inventory(viaProxy);
      expect(await proxied.availability(eventId, null)).toMatchObject({ availableSlots: 4 });
      proxy.loseNextAnswer(':meta');
      expect(
        await proxied.reserve(eventId, { bookingId: randomUUID(), seats: 2 }, null),
      ).toMatchObject({
        kind: 'confirmed',
        acceptedSeq: 1,
        seatNumbers: [1, 2],
      });
      expect(await inventory.availability(eventId, null)).toMatchObject({ availableSlots: 2 });
    } finally {
      viaProxy.disconnect();
      await proxy.close();
    }
  });

  it('finds a person lock it took, sent again, its own', async () => {
    const proxy = await startTcpProxy(server.url);
    const viaProxy = new Redis(proxy.url);
    try {
      const eventId = randomUUID();
      const proxied = new Inventory(viaProxy);
      await viaProxy.ping();
      proxy.loseNextAnswer(`booking:{${eventId}}`);
      const lock = { eventId, userId: 'u', token: randomUUID() };
      expect(await proxied.lockAll([lock], 5000)).toEqual([true]);
      expect(await redis.get(`booking:{${eventId}}:u`)).toBe(lock.token);
    } finally {
      viaProxy.disconnect();
      await proxy.close();
    }
  });
});
