import type { SealedBox } from '@happening/contracts';
import { DEFAULT_RETENTION, startOutboxRelay, startPlatformRetention } from '@happening/db';
import {
  type Broker,
  mergeTopologies,
  platformTopology,
  type SubscribingService,
} from '@happening/messaging';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { NotificationDb } from './database.ts';
import { FINISHED_STATUSES, type NotificationChannel } from './domain.ts';
import type { ChannelAdapter } from './modules/delivery/channels/channel.adapter.ts';
import {
  DELIVERY_QUEUE,
  type DeliveryMessage,
  deliveryMessageSchema,
  deliveryTopology,
} from './modules/delivery/delivery.message.ts';
import { deliverNotification } from './modules/delivery/delivery.worker.ts';
import { startPendingSweep } from './modules/delivery/pending.sweep.ts';
import { domainEventHandler } from './modules/inbound/domain-event.handler.ts';
import { createTemplateRenderer } from './modules/templates/template.renderer.ts';
import { countWaitingNoticesIn } from './modules/waiting-notices/waiting-notice.metrics.ts';

export interface RuntimeDeps {
  db: Kysely<NotificationDb>;
  broker: Broker;
  logger: Logger;
  adapters: ReadonlyMap<NotificationChannel, ChannelAdapter>;
  sealedBox: SealedBox;
  /** Opens the accept links identity-org seals into member_invited (INVITE_LINK_KEY). */
  inviteLinks: SealedBox;
  deliveryRetryDelaysMs: readonly number[];
  pendingSweepIntervalMs: number;
  pendingStaleAfterMs: number;
  /** A notice waiting longer than this for its person's contact details is given up. */
  waitingNoticeExpiryMs: number;
  /** Sent, failed and skipped notifications are deleted once finished longer ago than this. */
  finishedNotificationRetentionMs: number;
  /** Consumers deployed (EVENT_CONSUMERS), whose queues are declared before publishing. */
  eventConsumers: readonly SubscribingService[];
}

/**
 * The background work main.ts runs and tests start the same way: the domain-event consumer,
 * the delivery workers, the outbox relay, retention of the platform tables (and of notices waiting
 * too long for their person), the pending sweep and the waiting notices' gauge.
 */
export async function startRuntime(
  deps: RuntimeDeps,
): Promise<{ stopTaking(): Promise<void>; stop(): Promise<void>; pruneNow(): Promise<void> }> {
  const { db, broker, logger } = deps;
  // Every deployed consumer's queues, its own always (notification.events is bound to
  // EVENT_SUBSCRIPTIONS.notification); the delivery queue only notification declares, as its
  // retry delays are its configuration.
  await broker.declare(
    mergeTopologies(
      platformTopology([...deps.eventConsumers, 'notification']),
      deliveryTopology(deps.deliveryRetryDelaysMs),
    ),
  );

  const relay = startOutboxRelay({ db, logger, publish: (message) => broker.publish(message) });
  const retention = startPlatformRetention({
    db,
    logger,
    // A booking message handled later than the inbox keeps its id is handled anew anyway; its
    // event's cancellation is kept as long.
    serviceTables: [
      { table: 'cancelled_events', column: 'created_at', olderThanMs: DEFAULT_RETENTION.inboxMs },
      // A fan-out left unfinished (its message dead-lettered) goes on from where it was should the
      // message come back while the inbox would still know it; started anew after that, it
      // writes nothing twice either.
      { table: 'fan_outs', column: 'created_at', olderThanMs: DEFAULT_RETENTION.inboxMs },
      { table: 'waiting_notices', column: 'created_at', olderThanMs: deps.waitingNoticeExpiryMs },
      {
        table: 'notifications',
        column: 'updated_at',
        olderThanMs: deps.finishedNotificationRetentionMs,
        onlyWhere: { column: 'status', values: FINISHED_STATUSES },
      },
      // An event's holders and versions serve its updates' and cancellation's notices; kept as
      // long as finished notifications, after its latest end known.
      {
        table: 'event_holders',
        column: 'event_ends_at',
        olderThanMs: deps.finishedNotificationRetentionMs,
      },
      {
        table: 'event_versions',
        column: 'event_ends_at',
        olderThanMs: deps.finishedNotificationRetentionMs,
      },
    ],
  });
  const stopCountingWaiting = countWaitingNoticesIn(db, logger);
  const events = await broker.consume({
    queue: 'notification.events',
    handler: domainEventHandler(db, {
      renderer: createTemplateRenderer(),
      sealedBox: deps.sealedBox,
      inviteLinks: deps.inviteLinks,
      waitingNoticeExpiryMs: deps.waitingNoticeExpiryMs,
      channels: new Set(deps.adapters.keys()),
      logger,
    }),
  });

  const maxAttempts = deps.deliveryRetryDelaysMs.length + 1;
  const delivery = await broker.consume<DeliveryMessage>({
    queue: DELIVERY_QUEUE,
    parse: (raw) => deliveryMessageSchema.parse(raw),
    maxAttempts,
    handler: async (message, context) => {
      await deliverNotification(
        { db, adapters: deps.adapters, sealedBox: deps.sealedBox, logger, maxAttempts },
        message.notificationId,
        { isLast: context.attempt >= maxAttempts },
      );
    },
  });

  const sweep = startPendingSweep({
    db,
    logger,
    intervalMs: deps.pendingSweepIntervalMs,
    staleAfterMs: deps.pendingStaleAfterMs,
    maxAttempts,
  });

  return {
    /** Runs the retention job now (joining a run in progress). */
    pruneNow: () => retention.runNow(),
    /**
     * Stops both consumers taking deliveries, at once (the start of the shutdown): new messages
     * stay in their queues for other replicas, the handlers in flight go on; `stop()` waits.
     */
    async stopTaking() {
      await Promise.all([events.stopTaking(), delivery.stopTaking()]);
    },
    async stop() {
      await sweep.stop();
      await events.cancel();
      await delivery.cancel();
      await relay.stop();
      await retention.stop();
      stopCountingWaiting();
      for (const adapter of deps.adapters.values()) await adapter.close?.();
    },
  };
}
