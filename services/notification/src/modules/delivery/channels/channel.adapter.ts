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
