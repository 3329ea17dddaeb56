import { startOutboxRelay, startPlatformRetention } from '@happening/db';
import { type Broker, platformTopology, type SubscribingService } from '@happening/messaging';
import { startRepeatingJob } from '@happening/service-kit';
import type { RelayControl } from './context.factory.ts';
import type { BookingContext } from './context.ts';
import type { AvailabilityPublisher } from './modules/availability/availability.publisher.ts';
import { eventsHandler } from './modules/events.consumer.ts';
import {
  reconcileAll,
  reconcileIfDue,
  recordReconcilePass,
  UNDEFINED_TABLE,
} from './modules/inventory/reconcile.service.ts';

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
  /** The start-up pass over every open event; resolves with the events rebuilt, never rejects. */
  startupPass: Promise<number>;
  /**
   * The scheduled pass now: every open event rebuilt if no replica's pass started within the
   * interval (undefined when one did).
   */
  reconcileIfDue(): Promise<number | undefined>;
  /**
   * Stops the consumer taking deliveries, at once (the start of the shutdown): new messages stay
   * in booking.events for other replicas, the handlers in flight go on; `stop()` waits for them.
   */
  stopTaking(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The background half: topology, outbox relay, retention of the platform tables, the
 * catalog/identity consumer, and reconciliation at start-up and on a schedule.
 *
 * The start-up pass runs beside the service rather than before it: with many open events it
 * would outlast the start-up probe. A request that finds an event's keys missing rebuilds them,
 * and one that finds them diverged waits on the event lock while the pass rebuilds that event;
 * until the pass reaches an event, its keys are used as they are (as on the other replicas, which
 * are not restarting). A pass that went through counts as the replicas' latest, so the others'
 * scheduled passes wait most of an interval after it.
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
  const stopping = new AbortController();
  const startupPass = (async () => {
    const { done, wentThrough } = await reconcileAll(ctx, 'startup-reconcile', stopping.signal);
    // Once it went through, and only then (not one a stop or crash cut short), it counts as the
    // replicas' latest pass.
    if (wentThrough) {
      await recordReconcilePass(ctx.db).catch((err: unknown) =>
        ctx.logger.warn({ err }, 'startup reconciliation not recorded as the latest pass'),
      );
    }
    return done;
  })().catch((error: unknown) => {
    // Tables not there yet: a first install whose migrations run once the pods are up (the
    // chart's in-cluster Postgres). Nothing to rebuild then.
    if ((error as { code?: string }).code === UNDEFINED_TABLE) {
      ctx.logger.warn({ err: error }, 'booking tables missing: startup reconciliation skipped');
    } else {
      ctx.logger.error({ err: error }, 'startup reconciliation failed');
    }
    return 0;
  });
  const consumer = await broker.consume({
    queue: 'booking.events',
    handler: eventsHandler(ctx),
    prefetch: deps.prefetch ?? 10,
  });
  const scheduled = startRepeatingJob({
    intervalMs: deps.reconcileIntervalMs,
    // Never beside this replica's own start-up pass: a long one would otherwise be run twice.
    run: async () => {
      await startupPass;
      return reconcileIfDue(ctx, deps.reconcileIntervalMs, stopping.signal);
    },
    onError: (err) => ctx.logger.error({ err }, 'scheduled reconciliation failed'),
  });
  return {
    startupPass,
    // Joins a scheduled run in progress rather than rebuilding every event twice at once.
    reconcileIfDue: () => scheduled.runNow(),
    stopTaking: () => consumer.stopTaking(),
    async stop() {
      stopping.abort();
      await startupPass;
      await scheduled.stop();
      await consumer.cancel();
      await deps.availability.stop();
      await relay.stop();
      await retention.stop();
    },
  };
}
