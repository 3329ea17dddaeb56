import { excerpt } from '../provider-text.ts';
import {
  type ChannelAdapter,
  type OutgoingMessage,
  PermanentRejection,
} from './channel.adapter.ts';
import { httpRejectionIsPermanent } from './rejection.policy.ts';

export interface HttpProviderOptions {
  url: string;
  apiKey: string;
  timeoutMs: number;
  /** The provider's request body for one message. */
  body: (message: OutgoingMessage) => Record<string, unknown>;
}

/**
 * A provider HTTP API (SMS, push): one JSON POST per message with a bearer key, an idempotency key
 * (the notification id, so a provider that honours it drops a resend) and a timeout. Any non-2xx
 * answer or timeout is a failed attempt; a 4xx refusing the message itself (400 invalid number,
 * 404 no device) is a permanent rejection, not retried (see `httpRejectionIsPermanent`).
 */
export function httpProviderChannel(options: HttpProviderOptions): ChannelAdapter {
  return {
    async send(message) {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': message.notificationId,
        },
        body: JSON.stringify(options.body(message)),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) {
        const reason = `provider answered ${response.status}: ${excerpt(text, 200)}`;
        throw httpRejectionIsPermanent(response.status)
          ? new PermanentRejection(reason)
          : new Error(reason);
      }
      return { providerMessageId: providerIdOf(text) };
    },
  };
}

function providerIdOf(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { id?: unknown; messageId?: unknown };
    const id = parsed.id ?? parsed.messageId;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

/** SMS: `{ to, text }`. */
export function smsChannel(options: Omit<HttpProviderOptions, 'body'>): ChannelAdapter {
  return httpProviderChannel({
    ...options,
    body: (m) => ({ to: m.to, text: m.body }),
  });
}

/** Push: `{ userId, title, body }`; the provider maps the user id to their devices. */
export function pushChannel(options: Omit<HttpProviderOptions, 'body'>): ChannelAdapter {
  return httpProviderChannel({
    ...options,
    body: (m) => ({ userId: m.to, title: m.subject, body: m.body }),
  });
}
