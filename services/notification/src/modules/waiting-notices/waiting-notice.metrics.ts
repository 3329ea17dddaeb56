import { metricsRegistry } from '@happening/service-kit';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { NotificationDb } from '../../database.ts';
import { countWaitingNotices } from './waiting-notice.repository.ts';

/** The running runtime's database and logger; none while no runtime runs. */
let source: { db: Kysely<NotificationDb>; logger: Logger } | undefined;

/** Counted in Postgres on each scrape, so every replica reports the same number. */
new Gauge({
  name: 'happening_notifications_waiting',
  help: 'Notices waiting for their recipient’s contact details (identity’s user_registered)',
  registers: [metricsRegistry],
  async collect() {
    if (!source) return;
    try {
      this.set(await countWaitingNotices(source.db));
    } catch (err) {
      // A failed count must not fail the whole scrape: the last value stays.
      source.logger.warn({ err }, 'counting waiting notices failed');
    }
  },
});

/** Makes the waiting notices' gauge count in `db` until the returned function is called. */
export function countWaitingNoticesIn(db: Kysely<NotificationDb>, logger: Logger): () => void {
  const mine = { db, logger };
  source = mine;
  return () => {
    if (source === mine) source = undefined;
  };
}

const waitingNoticesGivenUp = new Counter({
  name: 'happening_waiting_notices_given_up_total',
  help: 'Waiting notices given up because they can never be written (stored envelope, template)',
  registers: [metricsRegistry],
});

/** Counts waiting notices given up for good; after their transaction committed. */
export function countWaitingNoticesGivenUp(count: number): void {
  if (count > 0) waitingNoticesGivenUp.inc(count);
}
