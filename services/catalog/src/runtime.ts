import { startOutboxRelay, startPlatformRetention } from '@happening/db';
import { type Broker, platformTopology, type SubscribingService } from '@happening/messaging';
import type { Logger } from 'pino';
import type { CatalogDb } from './database.ts';
import { startLifecycleScheduler } from './modules/lifecycle/lifecycle.scheduler.ts';
import { projectionsHandler } from './modules/projections.consumer.ts';

export interface RuntimeDeps {
  db: CatalogDb;
  broker: Broker;
  logger: Logger;
  clock: () => Date;
  lifecycleIntervalMs: number;
  /** Consumers deployed (EVENT_CONSUMERS), whose queues are declared before publishing. */
  eventConsumers: readonly SubscribingService[];
}

export interface CatalogRuntime {
  /** Tells the outbox relay that rows were committed. */
  wake(): void;
  /** Runs the lifecycle job now. */
  runLifecycle(): Promise<number>;
  /**
   * Stops the consumer taking deliveries, at once (the start of the shutdown): new messages stay
   * in catalog.events for other replicas, the handlers in flight go on; `stop()` waits for them.
   */
  stopTaking(): Promise<void>;
  /** Stops the scheduler, the consumer and the relay, in that order. */
  stop(): Promise<void>;
}

/**
 * The background half of the service: topology, projections consumer, outbox relay, retention of
 * the platform tables, lifecycle.
 */
export async function startRuntime(deps: RuntimeDeps): Promise<CatalogRuntime> {
  const { db, broker, logger } = deps;
  // Every deployed consumer's queues, not only catalog.events (bound to
  // EVENT_SUBSCRIPTIONS.catalog): what catalog publishes reaches booking and notification even
  // before they first start. Its own always, as it consumes it whatever EVENT_CONSUMERS says.
  await broker.declare(platformTopology([...deps.eventConsumers, 'catalog']));
  const relay = startOutboxRelay({
    db,
    logger,
    publish: (message) => broker.publish(message),
  });
  const retention = startPlatformRetention({ db, logger });
  const consumer = await broker.consume({
    queue: 'catalog.events',
    handler: projectionsHandler(db, logger),
  });
  const scheduler = startLifecycleScheduler({
    db,
    logger,
    clock: deps.clock,
    intervalMs: deps.lifecycleIntervalMs,
    onTransitions: () => relay.wake(),
  });
  return {
    wake: () => relay.wake(),
    runLifecycle: () => scheduler.runNow(),
    stopTaking: () => consumer.stopTaking(),
    async stop() {
      await scheduler.stop();
      await consumer.cancel();
      await relay.stop();
      await retention.stop();
    },
  };
}
