import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { ConfirmPublisher } from './confirm-publisher.ts';
import { consumedMessages, deadLetteredMessages } from './consumer.metrics.ts';
import { PublishError, UnprocessableMessage, UntrustedEvent } from './errors.ts';
import { HEADERS } from './headers.ts';
import { describeError, type MessageContext, messageContext } from './message-context.ts';
import type { FailurePolicy } from './topology.ts';

export interface ConsumeOptions<T> {
  queue: string;
  handler: (message: T, context: MessageContext) => Promise<void>;
  /** Unacked messages in flight on this consumer; default 10. */
  prefetch?: number;
  /** Validates the decoded JSON body; throwing sends the message straight to the DLQ. */
  parse?: (raw: unknown, context: MessageContext) => T;
  /** Deliveries before dead-lettering; default one more than the queue's retry queues. */
  maxAttempts?: number;
}

interface RunnerDeps {
  logger: Logger;
  policy: FailurePolicy;
  publisher(): ConfirmPublisher | undefined;
  /**
   * How long a message whose move failed at once (publishing blocked, not connected) stays
   * unacked before it is requeued.
   */
  failedMoveRequeueDelayMs: number;
  /** Called when the channel closed while the connection stayed up. */
  onChannelLost(runner: ConsumerRunner<unknown>): void;
}

/** One consumer: re-attached to every new connection, it acks only after the message is settled. */
export class ConsumerRunner<T> {
  readonly #options: ConsumeOptions<T> & { parse: NonNullable<ConsumeOptions<T>['parse']> };
  readonly #deps: RunnerDeps;
  readonly #inFlight = new Set<Promise<void>>();
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  /** Aborted by `stop()`: no attach starts consuming after it, and a failed move's pause ends. */
  readonly #stopping = new AbortController();
  /** Attaches in progress: `stop()` waits for them, so none starts consuming after a stop. */
  readonly #attaching = new Set<Promise<void>>();
  #stopTaking: Promise<void> | undefined;

  constructor(
    options: ConsumeOptions<T> & { parse: NonNullable<ConsumeOptions<T>['parse']> },
    deps: RunnerDeps,
  ) {
    this.#options = options;
    this.#deps = deps;
  }

  get queue(): string {
    return this.#options.queue;
  }

  get attached(): boolean {
    return this.#channel !== undefined;
  }

  async attach(connection: ChannelModel): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    const attaching = this.#attach(connection);
    this.#attaching.add(attaching);
    try {
      await attaching;
    } finally {
      this.#attaching.delete(attaching);
    }
  }

  async #attach(connection: ChannelModel): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) =>
      this.#deps.logger.warn({ err: error, queue: this.queue }, 'consumer channel error'),
    );
    channel.on('close', () => {
      if (this.#channel !== channel) return;
      this.#channel = undefined;
      if (!this.#stopping.signal.aborted) this.#deps.onChannelLost(this as ConsumerRunner<unknown>);
    });
    // Stopped meanwhile: nothing consumes on this channel yet, so it is just closed.
    if (this.#stopping.signal.aborted) {
      await channel.close().catch(() => undefined);
      return;
    }
    await channel.prefetch(this.#options.prefetch ?? 10);
    if (this.#stopping.signal.aborted) {
      await channel.close().catch(() => undefined);
      return;
    }
    const { consumerTag } = await channel.consume(
      this.queue,
      (message) => {
        if (!message) {
          this.#deps.logger.warn({ queue: this.queue }, 'broker cancelled the consumer');
          void channel.close().catch(() => undefined);
          return;
        }
        const work = this.#handle(channel, message);
        this.#inFlight.add(work);
        void work.finally(() => this.#inFlight.delete(work));
      },
      { noAck: false },
    );
    // Kept even when stopped meanwhile: `stop()` waits for this attach, then cancels it and
    // settles what was delivered before the cancel, as for any consumer.
    this.#channel = channel;
    this.#consumerTag = consumerTag;
  }

  /** Forgets a channel whose connection died; its unacked messages return to the queue. */
  detach(): void {
    this.#channel = undefined;
  }

  /**
   * Stops taking deliveries (after an attach in progress): basic.cancel, so the broker gives this
   * queue's next messages to other consumers. What was delivered before goes on and is settled on
   * the channel, which stays open until `stop()`.
   */
  stopTaking(): Promise<void> {
    this.#stopTaking ??= (async () => {
      this.#stopping.abort();
      await Promise.allSettled([...this.#attaching]);
      const channel = this.#channel;
      if (channel && this.#consumerTag)
        await channel.cancel(this.#consumerTag).catch(() => undefined);
    })();
    return this.#stopTaking;
  }

  /** Stops taking deliveries, waits for the running handlers, then closes the channel. */
  async stop(): Promise<void> {
    await this.stopTaking();
    const channel = this.#channel;
    await Promise.allSettled([...this.#inFlight]);
    this.#channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  async #handle(channel: Channel, message: ConsumeMessage): Promise<void> {
    const context = messageContext(message);
    const { policy, logger } = this.#deps;
    let parsed: T;
    try {
      parsed = this.#options.parse(JSON.parse(message.content.toString('utf8')), context);
    } catch (error) {
      // A message that does not fit its schema will never fit it, nor will a forged one: no retries.
      if (error instanceof UntrustedEvent) {
        // Type and source only: the payload of a forged event is the attacker's.
        logger.warn(
          {
            messageId: context.messageId,
            queue: this.queue,
            routingKey: context.routingKey,
            type: error.eventType,
            source: error.source,
          },
          'untrusted event refused, dead-lettering',
        );
        await this.#deadLetter(channel, message, context, `untrusted: ${error.message}`);
        return;
      }
      logger.warn(
        { messageId: context.messageId, queue: this.queue, err: error },
        'message failed parsing',
      );
      await this.#deadLetter(channel, message, context, `parse failed: ${describeError(error)}`);
      return;
    }
    try {
      await this.#options.handler(parsed, context);
    } catch (error) {
      if (error instanceof UnprocessableMessage) {
        logger.error(
          { messageId: context.messageId, queue: this.queue, err: error },
          'message unprocessable, dead-lettering',
        );
        await this.#deadLetter(channel, message, context, `unprocessable: ${error.message}`);
        return;
      }
      const maxAttempts = this.#options.maxAttempts ?? policy.retryQueues.length + 1;
      const reason = describeError(error);
      const retryQueue =
        policy.retryQueues[Math.min(context.attempt, policy.retryQueues.length) - 1];
      if (context.attempt < maxAttempts && retryQueue) {
        logger.info(
          { messageId: context.messageId, attempt: context.attempt, err: error },
          'handler failed, retrying',
        );
        const moved = await this.#moveThenAck(channel, message, context, retryQueue, {
          [HEADERS.attempt]: context.attempt + 1,
          [HEADERS.error]: reason,
        });
        this.#count(moved ? 'retried' : 'requeued');
      } else {
        logger.error(
          { messageId: context.messageId, attempt: context.attempt, err: error },
          'handler failed, dead-lettering',
        );
        await this.#deadLetter(channel, message, context, reason);
      }
      return;
    }
    this.#settle(() => channel.ack(message));
    this.#count('processed');
  }

  /**
   * Moves the message to the DLQ without its attempt number (recorded under another header), so an
   * operator's replay gets the full retries again instead of going straight back to the DLQ.
   */
  async #deadLetter(
    channel: Channel,
    message: ConsumeMessage,
    context: MessageContext,
    reason: string,
  ): Promise<void> {
    const { [HEADERS.attempt]: _attempt, ...headers } = context.headers;
    const moved = await this.#moveThenAck(
      channel,
      message,
      { ...context, headers },
      this.#deps.policy.deadLetterQueue,
      { [HEADERS.error]: reason, [HEADERS.attempts]: context.attempt },
    );
    this.#count(moved ? 'dead_lettered' : 'requeued');
  }

  #count(outcome: 'processed' | 'retried' | 'dead_lettered' | 'requeued'): void {
    consumedMessages.inc({ queue: this.queue, outcome });
    if (outcome === 'dead_lettered') deadLetteredMessages.inc({ queue: this.queue });
  }

  /**
   * Publishes a copy to `queue` with a confirm, and acks the original only once that copy is safe.
   * Resolves to whether it moved: `false` when the copy was not confirmed and the original requeued
   * instead.
   */
  async #moveThenAck(
    channel: Channel,
    message: ConsumeMessage,
    context: MessageContext,
    queue: string,
    headers: Record<string, unknown>,
  ): Promise<boolean> {
    const publisher = this.#deps.publisher();
    try {
      if (!publisher) throw new PublishError('NOT_CONNECTED', 'not connected to the broker');
      const { properties } = message;
      await publisher.publish({
        exchange: '',
        routingKey: queue,
        content: message.content,
        options: {
          messageId: properties.messageId,
          correlationId: properties.correlationId,
          contentType: properties.contentType,
          timestamp: properties.timestamp,
          type: properties.type,
          headers: {
            ...context.headers,
            ...headers,
            [HEADERS.routingKey]: context.routingKey,
            [HEADERS.failedQueue]: this.queue,
          },
        },
      });
    } catch (error) {
      // Back to the queue; the quorum queue's delivery limit caps how often this can happen.
      this.#deps.logger.warn(
        { messageId: context.messageId, queue, err: error },
        'could not move message',
      );
      // A move that failed at once (publishing blocked, its connection or channel down): requeued
      // at once, the message would run its handler again and again and spend that limit in
      // moments, then be dead-lettered without its retries. A confirm timeout has waited already.
      // Stopping ends the pause: the message goes back to the queue for whoever consumes next.
      if (!(error instanceof PublishError && error.code === 'CONFIRM_TIMEOUT')) {
        await sleep(this.#deps.failedMoveRequeueDelayMs, undefined, {
          signal: this.#stopping.signal,
        }).catch(() => undefined);
      }
      this.#settle(() => channel.nack(message, false, true));
      return false;
    }
    this.#settle(() => channel.ack(message));
    return true;
  }

  #settle(action: () => void): void {
    try {
      action();
    } catch (error) {
      // The channel is gone: the broker redelivers the message, consumers deduplicate.
      this.#deps.logger.warn({ err: error, queue: this.queue }, 'could not settle message');
    }
  }
}
