export { assertSchemaName, type CreateDbOptions, closeDb, createDb } from './db.factory.ts';
export {
  type IdempotencyErrorCode,
  IdempotencyKeyError,
  type IdempotencyKeyOptions,
  type IdempotentRequest,
  type KeepResponse,
  runIdempotently,
  type StoredResponse,
  withIdempotencyKey,
} from './idempotency.ts';
export { handleOnce, type InboxEntry } from './inbox.ts';
export { type MembershipChange, projectMembership } from './membership.projection.ts';
export { type MigrateCommandOptions, runMigrateCommand } from './migrate.command.ts';
export { type MigrateOptions, migrateToLatest } from './migrate.ts';
export {
  enqueueEvents,
  enqueueOutbox,
  type OutboxEnvelope,
  type OutboxMessage,
} from './outbox.enqueue.ts';
export {
  type OutboxRelay,
  type OutboxRelayOptions,
  type RelayedMessage,
  startOutboxRelay,
} from './outbox.relay.ts';
export type {
  IdempotencyKeyTable,
  InboxTable,
  OutboxTable,
  PlatformTables,
} from './platform.tables.ts';
export { databaseReadiness } from './readiness.ts';
export {
  DEFAULT_RETENTION,
  type PlatformRetention,
  prunePlatformTables,
  startPlatformRetention,
} from './retention.ts';
export { MAX_BIND_PARAMETERS, rowChunks } from './row-chunks.ts';
export { withTransaction } from './transaction.ts';
