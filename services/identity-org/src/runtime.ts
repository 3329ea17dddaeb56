import { startOutboxRelay, startPlatformRetention } from '@happening/db';
import { type Broker, platformTopology, type SubscribingService } from '@happening/messaging';
import type { Logger } from 'pino';
import { startInviteExpiry } from './modules/invites/invite-expiry.job.ts';
import type { Db } from './shared/database.ts';

export interface RuntimeDeps {
  db: Db;
  broker: Broker;
  logger: Logger;
  inviteExpirySweepMs: number;
  /** Consumers deployed (EVENT_CONSUMERS), whose queues are declared before publishing. */
  eventConsumers: readonly SubscribingService[];
}

/**
 * The background work main.ts runs and tests start the same way: outbox relay, retention of the
 * platform tables and invite expiry.
 */
export async function startRuntime(deps: RuntimeDeps): Promise<{ stop(): Promise<void> }> {
  // identity-org consumes nothing, but declares its consumers' queues before it publishes: a
  // signup served before catalog first started would otherwise never reach catalog.
  await deps.broker.declare(platformTopology(deps.eventConsumers));
  const relay = startOutboxRelay({
    db: deps.db,
    logger: deps.logger,
    publish: (message) => deps.broker.publish(message),
  });
  const retention = startPlatformRetention({ db: deps.db, logger: deps.logger });
  const expiry = startInviteExpiry({
    db: deps.db,
    intervalMs: deps.inviteExpirySweepMs,
    logger: deps.logger,
  });
  return {
    async stop() {
      await expiry.stop();
      await relay.stop();
      await retention.stop();
    },
  };
}
