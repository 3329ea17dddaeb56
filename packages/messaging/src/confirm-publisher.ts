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
  /** `performance.now()` after which the publish counts as not confirmed. */
  deadline: number;
  what: string;
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
  /** In publishing order, so the oldest deadline is always the first entry's. */
  readonly #pending = new Map<string, Pending>();
  /** One timer for every pending confirm (a timer per message cost more than the publish). */
  #expiry: NodeJS.Timeout | undefined;
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

  publish(message: OutgoingMessage): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new PublishError('NOT_CONNECTED', 'not connected to the broker'));
    }
    if (this.#drained) return this.#afterDrain(message);
    return new Promise<void>((resolve, reject) => {
      const publishId = randomUUID();
      let done = false;
      const pending: Pending = {
        deadline: performance.now() + this.#confirmTimeoutMs,
        what: `${message.exchange || '(default)'}/${message.routingKey}`,
        settle: (error) => {
          if (done) return;
          done = true;
          this.#pending.delete(publishId);
          if (this.#pending.size === 0) this.#disarm();
          if (error) reject(error);
          else resolve();
        },
      };
      this.#pending.set(publishId, pending);
      this.#arm();
      const { what } = pending;
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

  /** Publishes once the channel's buffer drained (amqplib asked to wait). */
  async #afterDrain(message: OutgoingMessage): Promise<void> {
    while (this.#drained) await this.#drained;
    return this.publish(message);
  }

  /** Arms the timer for the oldest pending confirm, unless it is armed. */
  #arm(): void {
    if (this.#expiry) return;
    const oldest = this.#pending.values().next().value;
    if (!oldest) return;
    this.#expiry = setTimeout(
      () => {
        this.#expiry = undefined;
        const now = performance.now();
        for (const pending of this.#pending.values()) {
          if (pending.deadline > now) break;
          pending.settle(
            new PublishError(
              'CONFIRM_TIMEOUT',
              `no confirm for ${pending.what} within ${this.#confirmTimeoutMs} ms`,
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
