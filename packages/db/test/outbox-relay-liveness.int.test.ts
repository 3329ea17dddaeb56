import { randomUUID } from 'node:crypto';
import { eventually, startPostgres, startTcpProxy, type TcpProxy } from '@happening/testkit';
import { type Kysely, sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDb,
  createDb,
  enqueueOutbox,
  type OutboxMessage,
  type RelayedMessage,
  startOutboxRelay,
  withTransaction,
} from '../src/index.ts';
import { logger, migratedDb, type TestTables } from './support.ts';

// The relay's liveness as alert HappeningOutboxRelayStalled sees it: the time of its last
// completed round, which must stop advancing while rounds fail or hang and rows wait.

const LAST_ROUND = 'happening_outbox_relay_last_round_timestamp_seconds';

let postgres: Awaited<ReturnType<typeof startPostgres>>;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await postgres?.stop();
});

/** The relay's last-round gauge in `registry` (undefined while it has no value). */
async function lastRound(registry: Registry): Promise<number | undefined> {
  const metric = registry.getSingleMetric(LAST_ROUND);
  if (!metric) return undefined;
  return (await metric.get()).values[0]?.value;
}

/** A relay on `db` with a registry of its own, publishing into `published`. */
function relay(db: Kysely<TestTables>, published: RelayedMessage[]) {
  const registry = new Registry();
  const started = startOutboxRelay({
    db,
    publish: async (message) => {
      published.push(message);
    },
    logger,
    pollIntervalMs: 50,
    maxRetryDelayMs: 200,
    registry,
  });
  cleanups.push(() => started.stop());
  return { relay: started, registry };
}

const message = (aggregateId: string): OutboxMessage => ({
  messageId: randomUUID(),
  routingKey: 'liveness.changed',
  payload: { aggregateId },
  aggregateType: 'thing',
  aggregateId,
});

async function unpublished(db: Kysely<TestTables>): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`.execute(db);
  return rows[0]!.n;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The gauge, sampled over `ms`: it must not move while the relay completes no round. */
async function expectStill(registry: Registry, ms: number): Promise<number> {
  const before = await lastRound(registry);
  expect(before).toBeDefined();
  await sleep(ms);
  expect(await lastRound(registry)).toBe(before);
  return before!;
}

describe('outbox relay liveness gauge', () => {
  it('advances on idle rounds, stops while rounds fail with rows waiting, and resumes after', async () => {
    const db = await migratedDb(postgres.url, 'relay_live_fail');
    cleanups.push(() => closeDb(db));
    const published: RelayedMessage[] = [];
    // Every round fails from the start: the claim's function is gone.
    await sql`ALTER FUNCTION outbox_heads(integer) RENAME TO outbox_heads_away`.execute(db);
    const startedAt = Date.now() / 1000;
    const { registry } = relay(db, published);
    await withTransaction(db, (trx) => enqueueOutbox(trx, [message('a'), message('b')]));

    // Never a round completed: the gauge holds the relay's start, so it ages from there.
    const held = await expectStill(registry, 1_000);
    expect(held).toBeGreaterThanOrEqual(Math.floor(startedAt));
    expect(held).toBeLessThan(startedAt + 1);
    expect(await unpublished(db)).toBe(2);
    expect(published).toHaveLength(0);

    await sql`ALTER FUNCTION outbox_heads_away(integer) RENAME TO outbox_heads`.execute(db);
    await eventually(async () => (await unpublished(db)) === 0, { what: 'outbox drained' });
    await eventually(async () => ((await lastRound(registry)) ?? 0) > held, {
      what: 'the gauge advanced',
    });
    // Nothing left to publish: the rounds go on finding nothing, and each one counts.
    const idle = (await lastRound(registry))!;
    await eventually(async () => ((await lastRound(registry)) ?? 0) > idle, {
      what: 'the gauge advanced on an idle round',
    });

    // Failing again after it has run: it stops where it was.
    await sql`ALTER FUNCTION outbox_heads(integer) RENAME TO outbox_heads_away`.execute(db);
    await withTransaction(db, (trx) => enqueueOutbox(trx, [message('c')]));
    await sleep(300); // the round in progress, if any, ends
    const stalled = await expectStill(registry, 1_000);
    expect(Date.now() / 1000 - stalled).toBeGreaterThan(1);
    expect(await unpublished(db)).toBe(1);

    await sql`ALTER FUNCTION outbox_heads_away(integer) RENAME TO outbox_heads`.execute(db);
    await eventually(async () => (await unpublished(db)) === 0, { what: 'outbox drained' });
    await eventually(async () => ((await lastRound(registry)) ?? 0) > stalled, {
      what: 'the gauge advanced again',
    });
    expect(published.map((m) => (m.payload as { aggregateId: string }).aggregateId).sort()).toEqual(
      ['a', 'b', 'c'],
    );
  });

  it('stops while Postgres does not answer the relay (a hung round), and resumes after', async () => {
    const schema = 'relay_live_hang';
    const direct = await migratedDb(postgres.url, schema);
    cleanups.push(() => closeDb(direct));
    const proxy: TcpProxy = await startTcpProxy(postgres.url);
    cleanups.push(() => proxy.close());
    const viaProxy = createDb<TestTables>({ connectionString: proxy.url, schema, max: 2 });
    cleanups.push(() => closeDb(viaProxy));
    const published: RelayedMessage[] = [];
    const { registry } = relay(viaProxy, published);
    const first = (await lastRound(registry))!;
    await eventually(async () => ((await lastRound(registry)) ?? 0) > first, {
      what: 'a round completed',
    });

    // A partition: the relay's queries neither answer nor fail.
    proxy.freeze();
    await sleep(300);
    await withTransaction(direct, (trx) => enqueueOutbox(trx, [message('h')]));
    const stalled = await expectStill(registry, 1_500);
    expect(Date.now() / 1000 - stalled).toBeGreaterThan(1.5);
    expect(await unpublished(direct)).toBe(1);
    expect(published).toHaveLength(0);

    proxy.thaw();
    await eventually(async () => (await unpublished(direct)) === 0, { what: 'outbox drained' });
    await eventually(async () => ((await lastRound(registry)) ?? 0) > stalled, {
      what: 'the gauge advanced again',
    });
  });
});
