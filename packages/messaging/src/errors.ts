export type PublishErrorCode =
  | 'UNROUTABLE'
  | 'NACKED'
  | 'CONFIRM_TIMEOUT'
  | 'NOT_CONNECTED'
  | 'CHANNEL_CLOSED'
  /** RabbitMQ blocks publishing (memory or disk alarm); nothing was written. */
  | 'BLOCKED';

/** A publish the broker did not confirm as routed: the caller must treat it as not sent. */
export class PublishError extends Error {
  constructor(
    readonly code: PublishErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/**
 * A domain event whose routing key or source does not vouch for its type (a pod publishing another
 * service's events): it is never applied and goes to the DLQ at once.
 */
export class UntrustedEvent extends Error {
  constructor(
    readonly eventType: string,
    readonly source: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'UntrustedEvent';
  }
}

/**
 * Thrown by a handler for a message it can never handle, however often it is delivered (a field
 * that cannot be decrypted with this service's key): the message goes to the DLQ at once, with
 * this reason, instead of through its retries.
 */
export class UnprocessableMessage extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnprocessableMessage';
  }
}
