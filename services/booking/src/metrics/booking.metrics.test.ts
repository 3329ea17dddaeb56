import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  refreshWaitlistLengthsWith,
  setWaitlistLength,
  waitlistLength,
} from './booking.metrics.ts';

/** The gauge's value for an event as a scrape reports it, undefined without a series. */
async function scraped(eventId: string): Promise<number | undefined> {
  const { values } = await waitlistLength.get();
  return values.find((v) => v.labels.event_id === eventId)?.value;
}

describe('the waitlist gauge on a scrape', () => {
  it('takes the lengths read from Redis, dropping the series of a waitlist emptied elsewhere', async () => {
    const [emptied, moved] = [randomUUID(), randomUUID()];
    setWaitlistLength(emptied, 2);
    setWaitlistLength(moved, 2);
    refreshWaitlistLengthsWith(async (eventIds) => eventIds.map((id) => (id === moved ? 5 : 0)));

    expect(await scraped(moved)).toBe(5);
    expect(await scraped(emptied)).toBeUndefined();
  });

  it('keeps a length set while Redis was being read, which is newer than the one read', async () => {
    const eventId = randomUUID();
    setWaitlistLength(eventId, 1);
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    refreshWaitlistLengthsWith(async (eventIds) => {
      await answered;
      return eventIds.map(() => 0);
    });

    const scrape = scraped(eventId);
    // A request sees a longer waitlist meanwhile; Redis had answered before it.
    setWaitlistLength(eventId, 3);
    answer();

    expect(await scrape).toBe(3);
  });

  it('shows the values last seen when Redis cannot be read', async () => {
    const eventId = randomUUID();
    setWaitlistLength(eventId, 4);
    refreshWaitlistLengthsWith(async () => {
      throw new Error('Redis is down');
    });

    expect(await scraped(eventId)).toBe(4);
  });
});
