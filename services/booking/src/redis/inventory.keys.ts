/**
 * Redis keys of one event's inventory. The braces are literal: `{eventId}` is the hash tag that
 * keeps an event's keys in one cluster slot, so the multi-key scripts stay valid on a cluster.
 */
export function inventoryKeys(eventId: string) {
  const prefix = `event:{${eventId}}`;
  return {
    /**
     * hash: total, policy, next (last waiting number), seq (last acceptance), over (seats still
     * booked beyond a lowered total: that many free seats are not sold), gen (a new id per
     * rebuild: a give-back of a decision taken on older keys gives nothing back), w<seats> (how
     * many wait for that many seats), wcount (how many wait) and wseq (the seq those counts were
     * last right at; see `countWaiting` in inventory.lua.ts), pending (the generation of a
     * rebuild whose transaction has not committed yet: the keys read as missing meanwhile).
     */
    meta: `${prefix}:meta`,
    /** integer: seats that may be sold (ZCARD of `free` less `over`, never below 0). */
    slots: `${prefix}:slots`,
    /** sorted set of free seat numbers, score = seat number, so the lowest come first. */
    free: `${prefix}:free`,
    /** sorted set of waiting booking ids, score = waiting number (FCFS order). */
    waitlist: `${prefix}:waitlist`,
    /** hash: waiting booking id → seats asked. */
    waiting: `${prefix}:waiting`,
  };
}

/** The five keys in the order every inventory script takes them (its answer's key comes sixth). */
export function scriptKeys(eventId: string): string[] {
  const k = inventoryKeys(eventId);
  return [k.meta, k.slots, k.free, k.waitlist, k.waiting];
}

/** string: the answer (JSON) of one script call, kept for the call sent again. */
export function answerKey(eventId: string, operation: string): string {
  return `event:{${eventId}}:answer:${operation}`;
}

/** Short-lived lock rejecting a person's concurrent duplicate requests for one event. */
export function bookingLockKey(eventId: string, userId: string): string {
  return `booking:{${eventId}}:${userId}`;
}
