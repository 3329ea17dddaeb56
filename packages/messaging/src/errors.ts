export type PublishErrorCode =
  | 'UNROUTABLE'
  | 'NACKED'
  | 'CONFIRM_TIMEOUT'
  | 'NOT_CONNECTED'
  | 'CHANNEL_CLOSED';

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
