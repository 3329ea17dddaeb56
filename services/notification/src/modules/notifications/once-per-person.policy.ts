import type { NotificationChannel } from '../../domain.ts';

/** What makes a notification one person's notice of a source event on a channel. */
export interface PersonsNotice {
  source_event_id: string;
  /** Absent or NULL for no known person. */
  user_id?: string | null;
  channel: NotificationChannel;
}

const keyOf = (n: PersonsNotice) => `${n.source_event_id} ${n.user_id} ${n.channel}`;

/**
 * The rows still to write, given the notifications `existing` already: a person gets a source
 * event's notice once on each channel, whatever address it went to (or, still pending, will go
 * to: a pending one is sent to the address its person has then). The unique (source event,
 * recipient, channel) key alone let a notice written after its person's email changed through.
 * Rows for no known person (an invite to an address nobody holds verified) are left to that key;
 * a person's second row in `rows` is dropped too.
 */
export function newToTheirPerson<T extends PersonsNotice>(
  rows: readonly T[],
  existing: readonly PersonsNotice[],
): T[] {
  const someone = (n: PersonsNotice) => (n.user_id ?? null) !== null;
  const noticed = new Set(existing.filter(someone).map(keyOf));
  return rows.filter((row) => {
    if (!someone(row)) return true;
    const key = keyOf(row);
    if (noticed.has(key)) return false;
    noticed.add(key);
    return true;
  });
}
