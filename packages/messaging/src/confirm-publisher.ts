import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { PublishError } from './errors.ts';
import { HEADERS } from './headers.ts';

/** One message as it goes on the wire. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

interface Pending {
  publishId: string;
  /** `performance.now()` after which the publish counts as not sent (waiting for 'drain' included). */
  deadline: number;
  what: string;
  returned?: string;
  settle(error?: PublishError): void;
}

export interface ConfirmPublisherOptions {
  /** How long a publish may take, from the call to the confirm, before it counts as not sent. */
  confirmTimeoutMs: number;
  /** RabbitMQ's reason while it blocks the channel's connection, `undefined` while it does not. */
  blockedBy(): string | undefined;
}

/**
 * Publishes on a confirm channel and resolves only when the broker acked the message AND routed
 * it. A `basic.return` (mandatory, no queue bound), a nack, a confirm that does not arrive within
 * the timeout, or the channel closing all reject: the caller must treat the message as not sent.
 *
 * Nothing is written while RabbitMQ blocks the connection (it would wait in memory, and go out
 * after its caller gave up on it): such a publish rejects at once with `BLOCKED`. A publish that
 * waits for amqplib's buffer to drain keeps its deadline, and is never written once it passed.
 */
export class ConfirmPublisher {
  readonly #channel: ConfirmChannel;
  readonly #options: ConfirmPublisherOptions;
  /** In publishing order, so the oldest deadline is always the first entry's. */
  readonly #pending = new Map<string, Pending>();
  /** The pending publishes waiting for 'drain', not written yet, in publishing order. */
  readonly #unsent = new Map<Pending, OutgoingMessage>();
  /** One timer for every pending publish (a timer per message cost more than the publish). */
  #expiry: NodeJS.Timeout | undefined;
  /** amqplib's buffer for the channel is full: publishes wait for 'drain'. */
  #waitingForDrain = false;
  #closed = false;

  constructor(channel: ConfirmChannel, options: ConfirmPublisherOptions) {
    this.#channel = channel;
    this.#options = options;
    // The broker sends basic.return before the basic.ack of the same message.
    channel.on('return', (message: ConsumeMessage) => {
      const fields = message.fields as unknown as { replyCode?: number; replyText?: string };
      const publishId = message.properties.headers?.[HEADERS.publishId];
      const pending = typeof publishId === 'string' ? this.#pending.get(publishId) : undefined;
      if (pending) pending.returned = `${fields.replyCode} ${fields.replyText}`;
    });
    channel.on('drain', () => {
      this.#waitingForDrain = false;
      this.#writeUnsent();
    });
    channel.on('close', () => this.fail('confirm channel closed'));
  }

  /** Rejects every publish still waiting for a confirm (amqplib may never call them back). */
  fail(reason: string): void {
    this.#closed = true;
    for (const pending of [...this.#pending.values()]) {
      pending.settle(new PublishError('CHANNEL_CLOSED', reason));
    }
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new PublishError('NOT_CONNECTED', 'not connected to the broker'));
    }
    const blockedBy = this.#options.blockedBy();
    if (blockedBy) return Promise.reject(blockedError(blockedBy));
    return new Promise<void>((resolve, reject) => {
      const publishId = randomUUID();
      let done = false;
      const pending: Pending = {
        publishId,
        deadline: performance.now() + this.#options.confirmTimeoutMs,
        what: `${message.exchange || '(default)'}/${message.routingKey}`,
        settle: (error) => {
          if (done) return;
          done = true;
          this.#pending.delete(publishId);
          this.#unsent.delete(pending);
          if (this.#pending.size === 0) this.#disarm();
          if (error) reject(error);
          else resolve();
        },
      };
      this.#pending.set(publishId, pending);
      this.#arm();
      if (this.#waitingForDrain) this.#unsent.set(pending, message);
      else this.#write(pending, message);
    });
  }

  #write(pending: Pending, message: OutgoingMessage): void {
    const { what } = pending;
    const options: Options.Publish = {
      ...message.options,
      persistent: true,
      mandatory: true,
      headers: { ...message.options.headers, [HEADERS.publishId]: pending.publishId },
    };
    let writable: boolean;
    try {
      writable = this.#channel.publish(
        message.exchange,
        message.routingKey,
        message.content,
        options,
        (error) => {
          if (error) pending.settle(new PublishError('NACKED', `broker nacked ${what}`));
          else if (pending.returned)
            pending.settle(
              new PublishError('UNROUTABLE', `unroutable ${what}: ${pending.returned}`),
            );
          else pending.settle();
        },
      );
    } catch (error) {
      pending.settle(new PublishError('CHANNEL_CLOSED', (error as Error).message));
      return;
    }
    if (!writable) this.#waitingForDrain = true;
  }

  /** Writes what waited for 'drain', oldest first, until the buffer is full again. */
  #writeUnsent(): void {
    for (const [pending, message] of this.#unsent) {
      if (this.#waitingForDrain) return;
      this.#unsent.delete(pending);
      const blockedBy = this.#options.blockedBy();
      if (blockedBy) pending.settle(blockedError(blockedBy));
      else this.#write(pending, message);
    }
  }

  /** Arms the timer for the oldest pending publish, unless it is armed. */
  #arm(): void {
    if (this.#expiry) return;
    const oldest = this.#pending.values().next().value;
    if (!oldest) return;
    this.#expiry = setTimeout(
      () => {
        this.#expiry = undefined;
        const now = performance.now();
        const timeoutMs = this.#options.confirmTimeoutMs;
        for (const pending of this.#pending.values()) {
          if (pending.deadline > now) break;
          pending.settle(
            new PublishError(
              'CONFIRM_TIMEOUT',
              this.#unsent.has(pending)
                ? `${pending.what} not sent within ${timeoutMs} ms: the connection did not drain`
                : `no confirm for ${pending.what} within ${timeoutMs} ms`,
            ),
          );
        }
        this.#arm();
      },
      Math.max(0, oldest.deadline - performance.now()),
    );
  }

  #disarm(): void {
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
  }
}

function blockedError(reason: string): PublishError {
  return new PublishError('BLOCKED', `the broker blocks publishing: ${reason}`);
}
