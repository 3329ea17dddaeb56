export {
  type FailingWrites,
  idempotencyKeyCompletionFails,
  withFailingWrites,
} from './failing-writes.ts';
