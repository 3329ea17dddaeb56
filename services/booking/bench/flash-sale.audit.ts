/**
 * The flash sale's audit, as pure functions over what Postgres, Redis and the load generator
 * hold after the run. Every figure must be 0.
 */

export interface AuditBooking {
  id: string;
  status: 'confirmed' | 'waiting' | 'cancelled';
  seats: number;
  waitingNumber: number | null;
}

/** The `created` history entry of a booking: how Redis decided it, and in which order. */
export interface AuditCreated {
  bookingId: string;
  status: 'confirmed' | 'waiting';
  acceptedSeq: number;
  waitingNumber: number | null;
}

export interface AuditInput {
  totalSlots: number;
  policy: 'fifo' | 'first_fit';
  bookings: AuditBooking[];
  created: AuditCreated[];
  /** Booking ids with a `promoted` history entry. */
  promoted: string[];
  /** Booking ids with a `cancelled` history entry. */
  cancelled: string[];
  /** Seat numbers of `booking_seats` rows with status booked (one entry per row). */
  bookedSeats: number[];
  redis: { freeSeats: number[]; slots: number; waitlist: string[] };
  /** Booking ids answered 201, and booking ids whose cancellation was answered 200. */
  acknowledged: { booked: string[]; cancelled: string[] };
  /** Rows of the live projections and of a replay of the log, each serialised canonically. */
  projections: { live: string[]; rebuilt: string[] };
}

export interface AuditFigures {
  /** Booked seats beyond the event's capacity. */
  oversoldSeats: number;
  /** Seat numbers held by two bookings, or booked in Postgres while free in Redis. */
  seatsHeldTwice: number;
  /** Waiting numbers out of acceptance order, newcomers confirmed ahead of someone waiting,
   * promotions out of policy, and a fitting waitlist head left waiting. */
  fcfsViolations: number;
  /** Acknowledged bookings (201) or cancellations (200) Postgres does not hold. */
  acknowledgedMissing: number;
  /** Rows that differ between the live projections and a rebuild from booking_history. */
  projectionMismatch: number;
  /** Redis free count or waitlist differing from what Postgres says. */
  redisMismatch: number;
}

export function auditFlashSale(input: AuditInput): AuditFigures {
  const booked = input.bookedSeats;
  const distinctBooked = new Set(booked);
  const free = new Set(input.redis.freeSeats);
  const oversoldSeats = Math.max(0, booked.length - input.totalSlots);
  const seatsHeldTwice =
    booked.length - distinctBooked.size + [...distinctBooked].filter((s) => free.has(s)).length;

  const byId = new Map(input.bookings.map((b) => [b.id, b]));
  const waitingNow = input.bookings
    .filter((b) => b.status === 'waiting')
    .sort((a, b) => a.waitingNumber! - b.waitingNumber!);
  const freeCount = input.totalSlots - distinctBooked.size;
  const fcfsViolations =
    waitingNumbersOutOfOrder(input.created) +
    (input.policy === 'fifo'
      ? fifoOvertakes(input.created, waitingNow) +
        fifoPromotionsOutOfOrder(input.promoted, waitingNow, byId) +
        (waitingNow[0] && waitingNow[0].seats <= freeCount ? 1 : 0)
      : waitingNow.filter((w) => w.seats <= freeCount).length);

  const createdIds = new Set(input.created.map((c) => c.bookingId));
  const cancelledIds = new Set(input.cancelled);
  const acknowledgedMissing =
    input.acknowledged.booked.filter((id) => !byId.has(id) || !createdIds.has(id)).length +
    input.acknowledged.cancelled.filter(
      (id) => byId.get(id)?.status !== 'cancelled' || !cancelledIds.has(id),
    ).length;

  const redisMismatch =
    (input.redis.slots === input.redis.freeSeats.length ? 0 : 1) +
    (input.redis.freeSeats.length === freeCount ? 0 : 1) +
    sequenceDifferences(
      input.redis.waitlist,
      waitingNow.map((w) => w.id),
    );

  return {
    oversoldSeats,
    seatsHeldTwice,
    fcfsViolations,
    acknowledgedMissing,
    projectionMismatch: multisetDifference(input.projections.live, input.projections.rebuilt),
    redisMismatch,
  };
}

/** Waiting numbers must grow with acceptance order: count the adjacent pairs that do not. */
function waitingNumbersOutOfOrder(created: readonly AuditCreated[]): number {
  const waited = created
    .filter((c) => c.status === 'waiting')
    .sort((a, b) => a.acceptedSeq - b.acceptedSeq);
  let violations = 0;
  for (let i = 1; i < waited.length; i += 1) {
    if (waited[i]!.waitingNumber! <= waited[i - 1]!.waitingNumber!) violations += 1;
  }
  return violations;
}

/**
 * fifo: whoever is still waiting was waiting at every moment since its acceptance, so a booking
 * confirmed on arrival after it overtook it.
 */
function fifoOvertakes(
  created: readonly AuditCreated[],
  waitingNow: readonly AuditBooking[],
): number {
  const seqOf = new Map(created.map((c) => [c.bookingId, c.acceptedSeq]));
  const firstStillWaiting = Math.min(
    ...waitingNow.map((w) => seqOf.get(w.id) ?? Number.POSITIVE_INFINITY),
  );
  return created.filter((c) => c.status === 'confirmed' && c.acceptedSeq > firstStillWaiting)
    .length;
}

/** fifo promotes heads only: a promoted booking behind someone still waiting skipped them. */
function fifoPromotionsOutOfOrder(
  promoted: readonly string[],
  waitingNow: readonly AuditBooking[],
  byId: ReadonlyMap<string, AuditBooking>,
): number {
  const firstWaitingNumber = waitingNow[0]?.waitingNumber ?? Number.POSITIVE_INFINITY;
  return promoted.filter((id) => (byId.get(id)?.waitingNumber ?? 0) > firstWaitingNumber).length;
}

/** Positions at which two sequences differ (a length difference counts per missing entry). */
function sequenceDifferences(a: readonly string[], b: readonly string[]): number {
  let differences = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) if (a[i] !== b[i]) differences += 1;
  return differences;
}

/** Entries in one multiset and not the other, both ways. */
function multisetDifference(a: readonly string[], b: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const x of a) counts.set(x, (counts.get(x) ?? 0) + 1);
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) - 1);
  let difference = 0;
  for (const n of counts.values()) difference += Math.abs(n);
  return difference;
}
