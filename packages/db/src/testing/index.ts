export {
  type FailingWrites,
  idempotencyKeyCompletionFails,
  withFailingWrites,
} from './failing-writes.ts';
export { indexIn, migrationsBefore } from './migrations.ts';
