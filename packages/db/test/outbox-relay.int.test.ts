import { randomUUID } from 'node:crypto';
import { type Broker, connectBroker, serviceTopology } from '@happening/messaging';
import {
  deferred,
  eventually,
  type RabbitMqHandle,
  startPostgres,
  startRabbitMq,
  startTcpProxy,
  type TcpProxy,
} from '@happening/testkit';
import { type Kysely, sql } from 'kysely';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeDb,
  enqueueEvents,
  enqueueOutbox,
  handleOnce,
  type OutboxMessage,
  type OutboxRelay,
  type OutboxRelayOptions,
  startOutboxRelay,
  startPlatformRetention,
  withTransaction,
} from '../src/index.ts';
import { logger, migratedDb, type TestTables } from './support.ts';

interface Delivery {
  messageId: string;
  payload: Record<string, unknown>;
}

let postgres: Awaited<ReturnType<typeof startPostgres>>;
let rabbit: RabbitMqHandle;
let broker: Broker;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  [postgres, rabbit] = await Promise.all([startPostgres(), startRabbitMq()]);
  broker = await connectBroker({
    url: rabbit.url,
    logger,
    confirmTimeoutMs: 2_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await broker?.close();
  await Promise.all([rabbit?.stop(), postgres?.stop()]);
});

async function schemaDb(schema: string): Promise<Kysely<TestTables>> {
  const db = await migratedDb(postgres.url, schema, 12);
  cleanups.push(() => closeDb(db));
  return db;
}

/** A relay on `db` publishing to the test broker, polling every 50 ms, stopped after the file. */
function relay(
  db: Kysely<TestTables>,
  options: Partial<OutboxRelayOptions<TestTables>> = {},
): OutboxRelay {
  const started = startOutboxRelay({
    db,
    publish: (message) => broker.publish(message),
    logger,
    pollIntervalMs: 50,
    maxRetryDelayMs: 1_000,
    ...options,
  });
  cleanups.push(() => started.stop());
  return started;
}

/** Consumes `<name>.events` bound to `<name>.#` and records every delivery in arrival order. */
async function collect(name: string): Promise<Delivery[]> {
  await broker.declare(serviceTopology(name, { bindings: [`${name}.#`] }));
  const deliveries: Delivery[] = [];
  const consumer = await broker.consume({
    queue: `${name}.events`,
    parse: (raw) => raw as Record<string, unknown>,
    handler: async (payload, context) => {
      deliveries.push({ messageId: context.messageId, payload });
    },
  });
  cleanups.push(() => consumer.cancel());
  return deliveries;
}

const message = (
  routingKey: string,
  aggregateId: string,
  payload: Record<string, unknown>,
): OutboxMessage => ({
  messageId: randomUUID(),
  routingKey,
  payload,
  aggregateType: 'thing',
  aggregateId,
});

async function unpublished(db: Kysely<TestTables>): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('published_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('outbox relay', () => {
  it('keeps order per aggregate with two relays running, without double publishing', async () => {
    const db = await schemaDb('relay_order');
    const deliveries = await collect('order');
    relay(db);
    relay(db);
    const aggregates = ['a', 'b', 'c', 'd'];
    for (let seq = 0; seq < 25; seq++) {
      for (const aggregate of aggregates) {
        await withTransaction(db, (trx) =>
          enqueueOutbox(trx, [message('order.changed', aggregate, { aggregate, seq })]),
        );
      }
    }
    await eventually(() => deliveries.length >= 100, { timeoutMs: 30_000 });
    await eventually(async () => (await unpublished(db)) === 0);
    expect(new Set(deliveries.map((d) => d.messageId)).size).toBe(deliveries.length);
    expect(deliveries).toHaveLength(100);
    for (const aggregate of aggregates) {
      const seqs = deliveries
        .filter((d) => d.payload.aggregate === aggregate)
        .map((d) => d.payload.seq);
      expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i));
    }
    const gauge = await register.getSingleMetricAsString('happening_outbox_unpublished');
    expect(gauge).toContain('schema="relay_order"');
  });

  it('the retention job deletes what the relay published once it is past retention', async () => {
    const db = await schemaDb('relay_prune');
    const deliveries = await collect('prune');
    relay(db);
    const retention = startPlatformRetention({
      db,
      logger,
      retention: { publishedOutboxMs: 200 },
      intervalMs: 100,
    });
    cleanups.push(() => retention.stop());
    await withTransaction(db, (trx) =>
      enqueueOutbox(trx, [
        message('prune.changed', 'a', { n: 1 }),
        message('prune.changed', 'b', { n: 2 }),
      ]),
    );
    await eventually(() => deliveries.length === 2, { timeoutMs: 10_000 });
    // Published, kept for the retention, then deleted by a later run of the job.
    await eventually(
      async () => (await db.selectFrom('outbox').select('id').execute()).length === 0,
      { timeoutMs: 10_000 },
    );
  });

  it('publishes contract envelopes with their id, type and aggregate', async () => {
    const db = await schemaDb('relay_envelope');
    const deliveries = await collect('catalog');
    relay(db);
    const envelope = {
      id: randomUUID(),
      type: 'catalog.event_published',
      aggregate: { type: 'event', id: 'e-1', version: 2 },
      correlationId: 'corr-9',
      data: {},
    };
    await withTransaction(db, (trx) => enqueueEvents(trx, [envelope]));
    const [delivered] = await eventually(() => deliveries.length === 1 && deliveries);
    expect(delivered).toEqual({ messageId: envelope.id, payload: envelope });
    const row = await db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      routing_key: 'catalog.event_published',
      ordering_key: 'event/e-1',
    });
  });

  it('holds rows back while the process is busy and publishes them once resumed', async () => {
    const db = await schemaDb('relay_deferred');
    const deliveries = await collect('deferred');
    let busy = true;
    const deferring = relay(db, { deferWhile: () => busy, maxDeferMs: 60_000 });
    await withTransaction(db, (trx) =>
      enqueueOutbox(trx, [message('deferred.changed', 'a', { name: 'held' })]),
    );
    deferring.wake();
    // Several poll intervals: a relay that did not hold back would have published it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(deliveries).toHaveLength(0);
    expect(await unpublished(db)).toBe(1);
    busy = false;
    deferring.resume();
    await eventually(() => deliveries.length === 1);
    expect(await unpublished(db)).toBe(0);
  });

  it('publishes rows held back for maxDeferMs even while the process stays busy', async () => {
    const db = await schemaDb('relay_bounded');
    const deliveries = await collect('bounded');
    const bounded = relay(db, { deferWhile: () => true, maxDeferMs: 300 });
    for (const name of ['first', 'second']) {
      const enqueuedAt = performance.now();
      await withTransaction(db, (trx) =>
        enqueueOutbox(trx, [message('bounded.changed', 'a', { name })]),
      );
      bounded.wake();
      await eventually(() => deliveries.some((d) => d.payload.name === name));
      // The first row is held back for the whole bound. The second's hold starts when the relay
      // defers again after the first round, before it was written: it is only shorter.
      if (name === 'first') expect(performance.now() - enqueuedAt).toBeGreaterThanOrEqual(300);
    }
  });

  it('keeps the bound for the rows a round left behind when one of its publishes failed', async () => {
    const db = await schemaDb('relay_bounded_failure');
    const deliveries = await collect('boundfail');
    let failOnce = true;
    const bounded = relay(db, {
      publish: (outgoing) => {
        if (failOnce) {
          failOnce = false;
          return Promise.reject(new Error('nacked'));
        }
        return broker.publish(outgoing);
      },
      batchSize: 2,
      maxRetryDelayMs: 50,
      deferWhile: () => true,
      maxDeferMs: 3_000,
    });
    const enqueuedAt = performance.now();
    await withTransaction(db, (trx) =>
      enqueueOutbox(
        trx,
        Array.from({ length: 6 }, (_, n) => message('boundfail.changed', `key-${n}`, { n })),
      ),
    );
    bounded.wake();
    await eventually(() => deliveries.length === 6, { timeoutMs: 15_000 });
    // Held back once for the bound (3 s), then drained at once; a second bound would end past
    // 6 s. The margin either side is seconds: this checks the bound, not speed.
    expect(performance.now() - enqueuedAt).toBeLessThan(5_000);
  });

  it('stops without starting a round while it holds rows back', async () => {
    const db = await schemaDb('relay_stop_deferred');
    const deliveries = await collect('stopdeferred');
    const deferring = relay(db, { deferWhile: () => true, maxDeferMs: 60_000 });
    await withTransaction(db, (trx) =>
      enqueueOutbox(trx, [message('stopdeferred.changed', 'a', { name: 'left' })]),
    );
    deferring.wake();
    await deferring.stop();
    // Left for the next process to publish.
    expect(await unpublished(db)).toBe(1);
    expect(deliveries).toHaveLength(0);
  });

  it('publishes a row that commits after later rows were already published', async () => {
    const db = await schemaDb('relay_late');
    const deliveries = await collect('late');
    relay(db);
    const gate = deferred();
    const lateEnqueued = deferred();
    const slow = withTransaction(db, async (trx) => {
      await enqueueOutbox(trx, [message('late.changed', 'slow', { name: 'late' })]);
      lateEnqueued.resolve();
      await gate.promise;
    });
    await lateEnqueued.promise;
    await withTransaction(db, (trx) =>
      enqueueOutbox(trx, [message('late.changed', 'fast', { name: 'early' })]),
    );
    await eventually(() => deliveries.some((d) => d.payload.name === 'early'));

    gate.resolve();
    await slow;
    await eventually(() => deliveries.some((d) => d.payload.name === 'late'));
    const rows = await db.selectFrom('outbox').select(['id', 'payload']).orderBy('id').execute();
    expect(rows.map((row) => (row.payload as { name: string }).name)).toEqual(['late', 'early']);
  });

  it('leaves a row whose publish is returned unroutable, and holds its aggregate behind it', async () => {
    const db = await schemaDb('relay_unroutable');
    // `happening.events` parks unroutable events; an exchange without an alternate returns them.
    const deliveries = await collect('routable');
    await broker.declare({
      exchanges: [{ name: 'strict', type: 'topic' }],
      queues: [],
      bindings: [{ exchange: 'strict', queue: 'routable.events', routingKey: 'routable.#' }],
    });
    relay(db, { publish: (message) => broker.publish({ ...message, exchange: 'strict' }) });
    await withTransaction(db, (trx) =>
      enqueueOutbox(trx, [
        message('nobody.listens', 'x', { name: 'x1' }),
        message('routable.changed', 'x', { name: 'x2' }),
        message('routable.changed', 'y', { name: 'y1' }),
      ]),
    );
    await eventually(() => deliveries.some((d) => d.payload.name === 'y1'));
    const failed = await eventually(() =>
      db
        .selectFrom('outbox')
        .selectAll()
        .where('routing_key', '=', 'nobody.listens')
        .where('attempts', '>=', 2)
        .executeTakeFirst(),
    );
    expect(failed.published_at).toBeNull();
    expect(failed.last_error).toMatch(/unroutable/);
    expect(deliveries.map((d) => d.payload.name)).toEqual(['y1']);
    expect(await unpublished(db)).toBe(2);
  });

  it('counts a publish that never settles as failed once the round deadline passes', async () => {
    const db = await schemaDb('relay_deadline');
    const stuck = relay(db, { publish: () => new Promise<void>(() => {}), confirmTimeoutMs: 300 });
    const sent = message('deadline.changed', 'd', { name: 'd1' });
    await withTransaction(db, (trx) => enqueueOutbox(trx, [sent]));
    stuck.wake();
    const failed = await eventually(() =>
      db.selectFrom('outbox').selectAll().where('attempts', '>=', 1).executeTakeFirst(),
    );
    expect(failed.published_at).toBeNull();
    expect(failed.last_error).toMatch(/publish not confirmed within 300 ms/);
  });

  it('counts a confirm that never arrives as not sent and sends the row again', async () => {
    const db = await schemaDb('relay_confirm');
    const deliveries = await collect('confirm');
    const proxy: TcpProxy = await startTcpProxy(rabbit.url);
    cleanups.push(() => proxy.close());
    const viaProxy = await connectBroker({
      url: proxy.url,
      logger,
      confirmTimeoutMs: 500,
    });
    cleanups.push(() => viaProxy.close());
    relay(db, { publish: (message) => viaProxy.publish(message) });

    proxy.freeze();
    // Three aggregates, so three confirms wait at once and all three expire.
    const sent = ['c', 'd', 'e'].map((key) => message('confirm.changed', key, { name: key }));
    await withTransaction(db, (trx) => enqueueOutbox(trx, sent));
    const timedOut = await eventually(async () => {
      const rows = await db.selectFrom('outbox').selectAll().where('attempts', '>=', 1).execute();
      return rows.length === sent.length && rows;
    });
    for (const row of timedOut) {
      expect(row.published_at).toBeNull();
      expect(row.last_error).toMatch(/no confirm/);
    }

    proxy.thaw();
    const published = await eventually(async () => {
      const rows = await db
        .selectFrom('outbox')
        .selectAll()
        .where('published_at', 'is not', null)
        .execute();
      return rows.length === sent.length && rows;
    });
    for (const row of published) expect(row.attempts).toBeGreaterThanOrEqual(2);
    await eventually(() => sent.every((m) => deliveries.some((d) => d.messageId === m.messageId)));
  });

  it('publishes every row of a run across a broker restart', async () => {
    // Asserted: each of the 500 ids reaches the queue at least once, the consumer's inbox holds
    // exactly the 500 ids (duplicates, if any, are absorbed there), and no row is left unpublished.
    const db = await schemaDb('relay_restart');
    await broker.declare(serviceTopology('restart', { bindings: ['restart.#'] }));
    const seen: string[] = [];
    let duplicates = 0;
    const consumer = await broker.consume({
      queue: 'restart.events',
      parse: (raw) => raw,
      handler: async (_payload, context) => {
        seen.push(context.messageId);
        const first = await handleOnce(
          db,
          { consumer: 'restart-test', messageId: context.messageId },
          async () => {},
        );
        if (!first) duplicates++;
      },
    });
    cleanups.push(() => consumer.cancel());
    const outboxRelay = relay(db);
    const ids: string[] = [];
    const write = async (count: number) => {
      for (let i = 0; i < count; i += 10) {
        const batch = Array.from({ length: 10 }, (_, j) =>
          message('restart.changed', `agg-${(i + j) % 20}`, { n: ids.length + j }),
        );
        ids.push(...batch.map((m) => m.messageId));
        await withTransaction(db, (trx) => enqueueOutbox(trx, batch));
        outboxRelay.wake();
      }
    };

    await write(100);
    await Promise.all([rabbit.halt(), write(200)]);
    await write(100);
    await rabbit.start();
    await write(100);

    await eventually(async () => (await unpublished(db)) === 0, {
      timeoutMs: 60_000,
      what: 'outbox drained',
    });
    const inbox = await eventually(
      async () => {
        const rows = await db
          .selectFrom('inbox')
          .select('message_id')
          .where('consumer', '=', 'restart-test')
          .execute();
        return rows.length >= ids.length && rows;
      },
      { timeoutMs: 60_000, what: 'every message consumed' },
    );
    expect(ids).toHaveLength(500);
    expect(new Set(inbox.map((row) => row.message_id))).toEqual(new Set(ids));
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen.length - duplicates).toBe(500);
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM outbox WHERE attempts > 1`.execute(db);
    logger.info({ duplicates, retriedRows: rows[0]?.n }, 'restart run');
    // Measured again by the relay's round after the backlog drained.
    await eventually(() => outboxRelay.lagSeconds() === 0, { what: 'the lag back at 0' });
  });
});
