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
  returned?: string;
  settle(error?: PublishError): void;
}

/**
 * Publishes on a confirm channel and resolves only when the broker acked the message AND routed
 * it. A `basic.return` (mandatory, no queue bound), a nack, a confirm that does not arrive within
 * the timeout, or the channel closing all reject: the caller must treat the message as not sent.
 */
export class ConfirmPublisher {
  readonly #channel: ConfirmChannel;
  readonly #confirmTimeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  #drained: Promise<void> | undefined;
  #closed = false;

  constructor(channel: ConfirmChannel, confirmTimeoutMs: number) {
    this.#channel = channel;
    this.#confirmTimeoutMs = confirmTimeoutMs;
    // The broker sends basic.return before the basic.ack of the same message.
    channel.on('return', (message: ConsumeMessage) => {
      const fields = message.fields as unknown as { replyCode?: number; replyText?: string };
      const publishId = message.properties.headers?.[HEADERS.publishId];
      const pending = typeof publishId === 'string' ? this.#pending.get(publishId) : undefined;
      if (pending) pending.returned = `${fields.replyCode} ${fields.replyText}`;
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

  async publish(message: OutgoingMessage): Promise<void> {
    if (this.#closed) throw new PublishError('NOT_CONNECTED', 'not connected to the broker');
    while (this.#drained) await this.#drained;
    if (this.#closed) throw new PublishError('NOT_CONNECTED', 'not connected to the broker');
    return new Promise<void>((resolve, reject) => {
      const publishId = randomUUID();
      const what = `${message.exchange || '(default)'}/${message.routingKey}`;
      let done = false;
      const pending: Pending = {
        settle: (error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.#pending.delete(publishId);
          if (error) reject(error);
          else resolve();
        },
      };
      const timer = setTimeout(
        () =>
          pending.settle(
            new PublishError(
              'CONFIRM_TIMEOUT',
              `no confirm for ${what} within ${this.#confirmTimeoutMs} ms`,
            ),
          ),
        this.#confirmTimeoutMs,
      );
      this.#pending.set(publishId, pending);
      const options: Options.Publish = {
        ...message.options,
        persistent: true,
        mandatory: true,
        headers: { ...message.options.headers, [HEADERS.publishId]: publishId },
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
      if (!writable && !this.#drained) {
        this.#drained = new Promise<void>((release) => {
          const done = () => {
            this.#channel.off('drain', done);
            this.#channel.off('close', done);
            this.#drained = undefined;
            release();
          };
          this.#channel.on('drain', done);
          this.#channel.on('close', done);
        });
      }
    });
  }
}
