/** What a channel adapter sends: a rendered notification to one address. */
export interface OutgoingMessage {
  notificationId: string;
  to: string;
  subject: string;
  body: string;
}

/** Sends through one channel's provider; rejects when the provider did not accept the message. */
export interface ChannelAdapter {
  send(message: OutgoingMessage): Promise<{ providerMessageId: string | null }>;
  close?(): Promise<void> | void;
}

/**
 * Thrown by an adapter when the provider refused this message for good (an unknown mailbox, an
 * invalid number): sending it again cannot succeed, so it is not retried.
 */
export class PermanentRejection extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentRejection';
  }
}
