import { randomUUID } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import { answerKey, bookingLockKey, inventoryKeys, scriptKeys } from './inventory.keys.ts';
import {
  COMMITTED_LUA,
  HOLDS_LUA,
  REBUILD_LUA,
  RELEASE_LUA,
  RESERVE_LUA,
  UNLOCK_LUA,
} from './inventory.lua.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    inventoryReserve(...args: (string | number)[]): Result<(string | number)[], Context>;
    inventoryRelease(...args: (string | number)[]): Result<(string | number)[], Context>;
    inventoryCompensate(...args: (string | number)[]): Result<(string | number)[], Context>;
    inventoryRebuild(...args: (string | number)[]): Result<(string | number)[], Context>;
    inventoryCommitted(key: string, generation: string): Result<number, Context>;
    inventoryHolds(...args: string[]): Result<number, Context>;
    inventoryUnlock(key: string, token: string): Result<number, Context>;
  }
}

/**
 * Decisions carry the generation of the keys they were taken on: each rebuild names the keys it
 * makes with a new one, so a give-back can tell that a rebuild came in between.
 */
export type ReserveResult =
  | { kind: 'confirmed'; acceptedSeq: number; seatNumbers: number[]; generation: string }
  | {
      kind: 'waiting';
      acceptedSeq: number;
      waitingNumber: number;
      position: number;
      generation: string;
    }
  | { kind: 'SEATS_TAKEN' }
  /** No keys, keys of another generation than the one named, or keys still pending. */
  | { kind: 'MISSING' };

/** A reserve that took something: seats, or a place on the waitlist. */
export type Decided = Extract<ReserveResult, { kind: 'confirmed' | 'waiting' }>;

export interface Promotion {
  bookingId: string;
  seatNumbers: number[];
  /** The generation of the keys it was made on. */
  generation: string;
}

export type ReleaseResult =
  | { kind: 'OK'; generation: string; promotions: Promotion[] }
  | { kind: 'MISSING' };

/** State of one event's inventory as Postgres holds it, for a rebuild. */
export interface InventorySnapshot {
  totalSlots: number;
  policy: 'fifo' | 'first_fit';
  lastWaitingNumber: number;
  lastAcceptedSeq: number;
  bookedSeats: number[];
  /** Waiting bookings in waiting-number order. */
  waiting: { bookingId: string; seats: number; waitingNumber: number }[];
}

/** What the availability endpoint shows. */
export interface AvailabilityFigures {
  totalSlots: number;
  availableSlots: number;
  waitlistLength: number;
}

/**
 * The seat inventory in Redis: every decision is one atomic Lua script (NOSCRIPT handled), run
 * once per call however often the client sends it (see `answeredOnce` in inventory.lua.ts).
 */
export class Inventory {
  constructor(private readonly redis: Redis) {
    const numberOfKeys = callKeys('').length;
    redis.defineCommand('inventoryReserve', { numberOfKeys, lua: RESERVE_LUA });
    redis.defineCommand('inventoryRelease', { numberOfKeys, lua: RELEASE_LUA });
    // Compensation returns exactly what a reserve took, then serves whoever queued meanwhile.
    redis.defineCommand('inventoryCompensate', { numberOfKeys, lua: RELEASE_LUA });
    redis.defineCommand('inventoryRebuild', { numberOfKeys, lua: REBUILD_LUA });
    redis.defineCommand('inventoryCommitted', { numberOfKeys: 1, lua: COMMITTED_LUA });
    redis.defineCommand('inventoryHolds', { numberOfKeys: 2, lua: HOLDS_LUA });
    redis.defineCommand('inventoryUnlock', { numberOfKeys: 1, lua: UNLOCK_LUA });
  }

  /**
   * Decides a new booking atomically: confirmed with seats, or waiting with a number. Only on
   * keys of `trusted`, the generation Postgres records for the event (null: whichever keys there
   * are); others answer MISSING.
   */
  async reserve(
    eventId: string,
    request: { bookingId: string; seats: number; seatNumbers?: number[] | undefined },
    trusted: string | null,
  ): Promise<ReserveResult> {
    const reply = answered(
      await this.redis.inventoryReserve(
        ...callKeys(eventId),
        request.bookingId,
        request.seats,
        (request.seatNumbers ?? []).join(','),
        trusted ?? '',
        sentAt(),
      ),
    );
    const [kind, ...rest] = reply;
    const nums = rest.map(Number);
    if (kind === 'confirmed') {
      const generation = String(rest[1]);
      return { kind, acceptedSeq: nums[0]!, seatNumbers: nums.slice(2), generation };
    }
    if (kind === 'waiting') {
      const generation = String(rest[3]);
      return {
        kind,
        acceptedSeq: nums[0]!,
        waitingNumber: nums[1]!,
        position: nums[2]!,
        generation,
      };
    }
    if (kind === 'SEATS_TAKEN' || kind === 'MISSING') return { kind };
    throw new Error(`unexpected reserve reply ${String(kind)}`);
  }

  /**
   * Returns a booking's seats or waitlist place and promotes per the event's policy, for a
   * cancellation transaction holding the release lock: only on keys of `event.redisGeneration`
   * (as `reserve`) whose last release is `event.lastRelease` or `token`, this transaction's own,
   * which it records in Postgres and the keys keep.
   */
  async release(
    eventId: string,
    hold: { bookingId: string; status: 'confirmed' | 'waiting' | 'none'; seatNumbers: number[] },
    event: { redisGeneration: string | null; lastRelease: string | null },
    token: string,
  ): Promise<ReleaseResult> {
    return parseRelease(
      answered(
        await this.redis.inventoryRelease(
          ...releaseArgs(eventId, hold),
          RECORDED,
          event.redisGeneration ?? '',
          event.lastRelease ?? '',
          token,
          sentAt(),
        ),
      ),
    );
  }

  /**
   * Gives back what Postgres never recorded: a reserve whose transaction failed, or a promotion
   * Redis made that Postgres refused. Unlike a release, a seat beyond a since-lowered capacity
   * was never counted as booked there, so it only disappears. With the hold's `generation`,
   * nothing is given back once a rebuild replaced the keys it was taken on: the rebuild already
   * left it out, and may have handed its seats to someone (a give-back runs after its failed
   * transaction, outside the event lock).
   */
  async compensate(
    eventId: string,
    hold: {
      bookingId: string;
      status: 'confirmed' | 'waiting';
      seatNumbers: number[];
      generation?: string | undefined;
    },
  ): Promise<ReleaseResult> {
    return parseRelease(
      answered(
        await this.redis.inventoryCompensate(
          ...releaseArgs(eventId, hold),
          GIVE_BACK,
          hold.generation ?? '',
          sentAt(),
        ),
      ),
    );
  }

  /**
   * After a cancellation committed: its seats beyond a since-lowered capacity no longer count as
   * booked there (`over`), so as many free seats within it may be sold; then promotes. Nothing,
   * once a rebuild replaced the keys its release was made on (the rebuild counted from Postgres).
   */
  async settleBeyondTotal(
    eventId: string,
    hold: { bookingId: string; seatNumbers: number[]; generation: string },
  ): Promise<ReleaseResult> {
    return parseRelease(
      answered(
        await this.redis.inventoryRelease(
          ...releaseArgs(eventId, { ...hold, status: 'confirmed' }),
          SETTLED,
          hold.generation,
          sentAt(),
        ),
      ),
    );
  }

  /**
   * Replaces the event's keys with `snapshot`, then promotes whoever fits. Nobody but this
   * rebuild's own calls decides on them until `committed(eventId, generation)`.
   */
  async rebuild(
    eventId: string,
    snapshot: InventorySnapshot,
  ): Promise<{ generation: string; promotions: Promotion[] }> {
    const reply = await this.redis.inventoryRebuild(
      ...callKeys(eventId),
      snapshot.totalSlots,
      snapshot.policy,
      snapshot.lastWaitingNumber,
      snapshot.lastAcceptedSeq,
      snapshot.bookedSeats.join(','),
      snapshot.waiting.map((w) => `${w.bookingId}:${w.seats}:${w.waitingNumber}`).join(','),
      randomUUID(),
      sentAt(),
    );
    const parsed = parseRelease(answered(reply));
    if (parsed.kind !== 'OK') throw new Error('rebuild did not complete');
    return { generation: parsed.generation, promotions: parsed.promotions };
  }

  /**
   * Whether a decision (of booking `bookingId`) whose transaction failed still holds in Redis, so
   * that it may be written as it was (see `HOLDS_LUA`).
   */
  async holds(eventId: string, bookingId: string, decision: Decided): Promise<boolean> {
    const keys = inventoryKeys(eventId);
    const number = decision.kind === 'waiting' ? String(decision.waitingNumber) : '';
    return (
      (await this.redis.inventoryHolds(
        keys.meta,
        keys.waitlist,
        decision.generation,
        bookingId,
        number,
      )) === 1
    );
  }

  /** The rebuild that made the keys (`generation`) committed: they may now be decided on. */
  async committed(eventId: string, generation: string): Promise<void> {
    await this.redis.inventoryCommitted(inventoryKeys(eventId).meta, generation);
  }

  /** Removes an event's keys (closed or cancelled events hold no inventory). */
  async drop(eventId: string): Promise<void> {
    await this.redis.del(...scriptKeys(eventId));
  }

  /**
   * The generation of the event's keys, of the rebuild they wait on to be marked committed if
   * any, and the token of the last release they ran if any; undefined when there are none.
   */
  async keysOf(
    eventId: string,
  ): Promise<{ generation: string; pending?: string; lastRelease?: string } | undefined> {
    const meta = inventoryKeys(eventId).meta;
    const replies = (await this.redis
      .multi()
      .hget(meta, 'total')
      .hget(meta, 'gen')
      .hget(meta, 'pending')
      .hget(meta, 'lastrelease')
      .exec()) as [Error | null, string | null][];
    const [total, generation, pending, lastRelease] = replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    if (total == null) return undefined;
    return {
      generation: generation ?? '',
      ...(pending == null ? {} : { pending }),
      ...(lastRelease == null ? {} : { lastRelease }),
    };
  }

  /** Whether the event's keys exist and their rebuild committed. */
  async exists(eventId: string): Promise<boolean> {
    // Two HGETs rather than HMGET: booking's Redis user may predate its grant (docs/operations.md).
    const meta = inventoryKeys(eventId).meta;
    const [total, pending] = (await this.redis
      .multi()
      .hget(meta, 'total')
      .hget(meta, 'pending')
      .exec()) as [Error | null, string | null][];
    return total?.[1] != null && pending?.[1] == null;
  }

  /**
   * Free seats, total and waitlist length; undefined when the keys are missing or not of
   * `trusted`, the generation Postgres records (with none, when they are pending).
   */
  async availability(
    eventId: string,
    trusted: string | null,
  ): Promise<AvailabilityFigures | undefined> {
    const keys = inventoryKeys(eventId);
    const [total, pending, generation, slots, waiting] = (await this.redis
      .multi()
      .hget(keys.meta, 'total')
      .hget(keys.meta, 'pending')
      .hget(keys.meta, 'gen')
      .get(keys.slots)
      .zcard(keys.waitlist)
      .exec()) as [Error | null, string | number | null][];
    if (total?.[1] == null) return undefined;
    if (trusted === null ? pending?.[1] != null : generation?.[1] !== trusted) return undefined;
    return {
      totalSlots: Number(total[1]),
      availableSlots: Number(slots?.[1] ?? 0),
      waitlistLength: Number(waiting?.[1] ?? 0),
    };
  }

  /** How many wait for each event, in the order given (0 for keys missing), in one round trip. */
  async waitlistLengths(eventIds: readonly string[]): Promise<number[]> {
    const pipeline = this.redis.pipeline();
    for (const eventId of eventIds) pipeline.zcard(inventoryKeys(eventId).waitlist);
    const answers = (await pipeline.exec()) ?? [];
    return answers.map(([error, length]) => {
      if (error) throw error;
      return Number(length);
    });
  }

  /** 1-based place of a waiting booking, or null when it is not waiting. */
  async waitlistPosition(eventId: string, bookingId: string): Promise<number | null> {
    const rank = await this.redis.zrank(inventoryKeys(eventId).waitlist, bookingId);
    return rank === null ? null : rank + 1;
  }

  /**
   * Takes per-person locks (SET NX PX), all in one round trip and in the order given; answers
   * for each whether it was taken (false: a request of theirs is in flight). GET makes a SET
   * the client re-sends after a lost connection find its own token: taken, not held by another.
   */
  async lockAll(
    locks: readonly { eventId: string; userId: string; token: string }[],
    ttlMs: number,
  ): Promise<boolean[]> {
    const pipeline = this.redis.pipeline();
    for (const { eventId, userId, token } of locks)
      pipeline.set(bookingLockKey(eventId, userId), token, 'PX', ttlMs, 'NX', 'GET');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, holder], i) => {
      if (error) throw error;
      return holder === null || holder === locks[i]?.token;
    });
  }

  /** Releases the lock if it is still ours. */
  async unlock(eventId: string, userId: string, token: string): Promise<void> {
    await this.redis.inventoryUnlock(bookingLockKey(eventId, userId), token);
  }
}

/**
 * A script call Redis received too late to tell whether it already ran (its answer would have
 * been dropped): it ran nothing now, and what it asked counts as unknown (see `answeredOnce`).
 */
export class StaleInventoryCall extends Error {}

/** A script call's keys: the event's, then its own answer's (a new operation id), re-sent unchanged. */
const callKeys = (eventId: string) => [...scriptKeys(eventId), answerKey(eventId, randomUUID())];

/** When a script call is sent, in Unix seconds, for Redis to tell one that comes too late. */
const sentAt = () => Math.floor(Date.now() / 1000);

function answered<T extends (string | number)[]>(reply: T): T {
  if (reply[0] === 'STALE') {
    throw new StaleInventoryCall('an inventory call reached Redis too late to be run safely');
  }
  return reply;
}

/** Tells the release script that the hold was never recorded in Postgres. */
const GIVE_BACK = '1';
/** Tells the release script that the hold is recorded in Postgres (a cancellation). */
const RECORDED = '';
/** Tells the release script that a cancellation of the hold committed (see `settleBeyondTotal`). */
const SETTLED = '2';

function releaseArgs(
  eventId: string,
  hold: { bookingId: string; status: string; seatNumbers: number[] },
): (string | number)[] {
  const status = hold.status === 'none' ? '' : hold.status;
  return [...callKeys(eventId), hold.bookingId, status, hold.seatNumbers.join(',')];
}

function parseRelease(reply: (string | number)[]): ReleaseResult {
  const [kind, rawGeneration, ...entries] = reply;
  if (kind === 'MISSING') return { kind };
  const generation = String(rawGeneration ?? '');
  return {
    kind: 'OK',
    generation,
    promotions: entries.map((entry) => {
      const [bookingId, seats] = String(entry).split(':');
      return {
        bookingId: bookingId!,
        seatNumbers: (seats ?? '').split(',').map(Number),
        generation,
      };
    }),
  };
}
