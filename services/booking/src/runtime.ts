import { startOutboxRelay, startPlatformRetention } from '@happening/db';
import { type Broker, platformTopology, type SubscribingService } from '@happening/messaging';
import { startRepeatingJob } from '@happening/service-kit';
import type { RelayControl } from './context.factory.ts';
import type { BookingContext } from './context.ts';
import type { AvailabilityPublisher } from './modules/availability/availability.publisher.ts';
import { eventsHandler } from './modules/events.consumer.ts';
import { reconcileAll } from './modules/inventory/reconcile.service.ts';

/** SQLSTATE of a relation that does not exist. */
const UNDEFINED_TABLE = '42P01';
export interface RuntimeDeps {
  ctx: BookingContext;
  availability: AvailabilityPublisher;
  /** Points the context at the relay (from createContext). */
  connectRelay(relay: RelayControl): void;
  broker: Broker;
  reconcileIntervalMs: number;
  /** Longest the outbox relay holds events back while new bookings are being processed. */
  outboxMaxDeferMs: number;
  /** Messages the consumer handles at once; default 10. */
  prefetch?: number;
  /** Consumers deployed (EVENT_CONSUMERS), whose queues are declared before publishing. */
  eventConsumers: readonly SubscribingService[];
}

export interface BookingRuntime {
  /** Rebuilds every open event's Redis inventory now. */
  reconcileAll(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The background half: topology, outbox relay, retention of the platform tables, the
 * catalog/identity consumer, and reconciliation at start-up and on a schedule.
 */
export async function startRuntime(deps: RuntimeDeps): Promise<BookingRuntime> {
  const { ctx, broker } = deps;
  // Every deployed consumer's queues, not only booking.events (bound to
  // EVENT_SUBSCRIPTIONS.booking): what booking publishes reaches catalog and notification even
  // before they first start. Its own always, as it consumes it whatever EVENT_CONSUMERS says.
  await broker.declare(platformTopology([...deps.eventConsumers, 'booking']));
  const relay = startOutboxRelay({
    db: ctx.db,
    logger: ctx.logger,
    publish: (message) => broker.publish(message),
    // A stampede's bookings get the CPU first; their events follow within `maxDeferMs`.
    deferWhile: () => ctx.newBookings.busy,
    maxDeferMs: deps.outboxMaxDeferMs,
  });
  const retention = startPlatformRetention({ db: ctx.db, logger: ctx.logger });
  deps.connectRelay(relay);
  await reconcileAll(ctx, 'startup-reconcile').catch((error: unknown) => {
    // Tables not there yet: a first install whose migrations run once the pods are up (the
    // chart's in-cluster Postgres). Nothing to rebuild then; waiting for them here would keep
    // the pods from ever becoming ready, and the install waiting on them.
    if ((error as { code?: string }).code !== UNDEFINED_TABLE) throw error;
    ctx.logger.warn({ err: error }, 'booking tables missing: startup reconciliation skipped');
  });
  const consumer = await broker.consume({
    queue: 'booking.events',
    handler: eventsHandler(ctx),
    prefetch: deps.prefetch ?? 10,
  });
  const scheduled = startRepeatingJob({
    intervalMs: deps.reconcileIntervalMs,
    run: () => reconcileAll(ctx, 'scheduled-reconcile'),
    onError: (err) => ctx.logger.error({ err }, 'scheduled reconciliation failed'),
  });
  return {
    // Joins a scheduled run in progress rather than rebuilding every event twice at once.
    reconcileAll: () => scheduled.runNow(),
    async stop() {
      await scheduled.stop();
      await consumer.cancel();
      await deps.availability.stop();
      await relay.stop();
      await retention.stop();
    },
  };
}
