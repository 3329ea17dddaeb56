/** Headers the platform sets on messages it moves or publishes. */
export const HEADERS = {
  /** Why a message was dead-lettered. */
  error: 'x-happening-error',
  /** Attempt number of the next delivery (1 for the first); absent from dead-lettered messages. */
  attempt: 'x-happening-attempt',
  /** Deliveries a dead-lettered message had; a replay from the DLQ starts again at attempt 1. */
  attempts: 'x-happening-attempts',
  /** Routing key the message was first published with (retries travel the default exchange). */
  routingKey: 'x-happening-routing-key',
  /** Queue the message failed in. */
  failedQueue: 'x-happening-failed-queue',
  correlationId: 'x-correlation-id',
  causationId: 'x-causation-id',
  /** Identifies one publish attempt, to match a `basic.return` to its pending confirm. */
  publishId: 'x-happening-publish-id',
} as const;
