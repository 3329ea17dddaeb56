import type { ConsumeMessage } from 'amqplib';
import { HEADERS } from './headers.ts';

/** What a handler knows about the delivery besides the parsed message. */
export interface MessageContext {
  messageId: string;
  /**
   * The routing key the message was originally published with: a retry's or replay's (default
   * exchange) is kept in a header, since it travels under its queue's name.
   */
  routingKey: string;
  /** 1 on the first delivery, then counts retries. */
  attempt: number;
  correlationId?: string;
  causationId?: string;
  headers: Record<string, unknown>;
}

export function messageContext(message: ConsumeMessage): MessageContext {
  const headers = { ...(message.properties.headers ?? {}) };
  delete headers[HEADERS.publishId];
  const attempt = Number(headers[HEADERS.attempt] ?? 1);
  // Only retries and replays travel the default exchange; on any other, the headers are whatever
  // the publisher wrote, while the routing key is what the broker's topic permissions checked.
  const originalKey =
    message.fields.exchange === '' ? originalRoutingKey(headers) : message.fields.routingKey;
  const context: MessageContext = {
    messageId: String(message.properties.messageId ?? ''),
    routingKey: originalKey ?? message.fields.routingKey,
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
    headers,
  };
  const correlationId = message.properties.correlationId ?? headers[HEADERS.correlationId];
  if (typeof correlationId === 'string') context.correlationId = correlationId;
  const causationId = headers[HEADERS.causationId];
  if (typeof causationId === 'string') context.causationId = causationId;
  return context;
}

/**
 * The routing key a message that came back through the default exchange was first published
 * with: the header the consumer's own retry and dead-letter moves set, or else the one the broker
 * recorded when the queue dead-lettered it itself (its delivery limit, after a consumer crashed
 * mid-message): the first `x-death` entry with an exchange, newest first.
 */
function originalRoutingKey(headers: Record<string, unknown>): string | undefined {
  const kept = headers[HEADERS.routingKey];
  if (typeof kept === 'string') return kept;
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths)) return undefined;
  for (const death of deaths as { exchange?: unknown; 'routing-keys'?: unknown }[]) {
    const keys = death['routing-keys'];
    if (death.exchange !== '' && Array.isArray(keys) && typeof keys[0] === 'string') return keys[0];
  }
  return undefined;
}

/** Renders an error as a header value, including a validation error's issue paths. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const issues = (error as { issues?: unknown }).issues;
  const text = Array.isArray(issues) ? `${error.message} ${JSON.stringify(issues)}` : error.message;
  return text.length > 1_000 ? `${text.slice(0, 1_000)}…` : text;
}
