import type { DomainEvent } from '@happening/contracts';
import type { ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { trackBroker } from './broker.metrics.ts';
import { ConfirmPublisher } from './confirm-publisher.ts';
import { type ConsumeOptions, ConsumerRunner } from './consumer-runner.ts';
import { parseDeliveredEvent } from './delivered-event.ts';
import { PublishError } from './errors.ts';
import { HEADERS } from './headers.ts';
import { declareTopology, ReconnectingConnection } from './reconnecting-connection.ts';
import { EVENTS_EXCHANGE, type FailurePolicy, type Topology } from './topology.ts';

export interface BrokerOptions {
  url: string;
  logger: Logger;
  /** A publish whose confirm takes longer counts as not sent; default 5000 ms. */
  confirmTimeoutMs?: number;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** AMQP heartbeat; a dead peer is noticed after about two of these. Default 5 s. */
  heartbeatSeconds?: number;
  /** One connection attempt (TCP and AMQP handshake) gives up after this; default 5000 ms. */
  connectTimeoutMs?: number;
}

/** A message to publish; the payload is sent as JSON. */
export interface PublishMessage {
  /** Default `happening.events`; `''` is the default exchange (routing key = queue name). */
  exchange?: string;
  routingKey: string;
  messageId: string;
  payload: unknown;
  headers?: Record<string, unknown>;
  /** Taken from the payload's `correlationId` / `causationId` when not given. */
  correlationId?: string;
  causationId?: string;
}

export interface ConsumerHandle {
  /**
   * Stops taking new deliveries (basic.cancel), e.g. as soon as shutdown starts: the queue's next
   * messages stay for other consumers, while the running handlers go on and ack. `cancel()` waits
   * for them.
   */
  stopTaking(): Promise<void>;
  /** Stops this consumer, waiting for a (re-)attach in progress and for its running handlers. */
  cancel(): Promise<void>;
}

export interface Broker {
  /** Declares exchanges, queues and bindings now and again after every reconnect. */
  declare(topology: Topology): Promise<void>;
  /** Resolves once the broker confirmed the message and routed it to a queue; rejects otherwise. */
  publish(message: PublishMessage): Promise<void>;
  /**
   * Consumes a declared queue with manual acks; parse defaults to `parseDeliveredEvent`, which
   * dead-letters events not from their type's owner.
   */
  consume<T = DomainEvent>(options: ConsumeOptions<T>): Promise<ConsumerHandle>;
  /** Connected for publishing and for consuming (two connections, each reconnecting on its own). */
  isConnected(): boolean;
  /** Stops consuming, waits for in-flight handlers, closes the connections. */
  close(): Promise<void>;
}

/**
 * Returns after one attempt of each connection (publishing, consuming), connected or not: a broker
 * that is down does not hold up a service's start. Until connected (and after losing a connection)
 * it keeps trying with backoff, until `close()`. Throws at once for a URL that can never connect.
 */
export async function connectBroker(options: BrokerOptions): Promise<Broker> {
  assertAmqpUrl(options.url);
  const broker = new ReconnectingBroker(options);
  await broker.start();
  return broker;
}

/** A configuration error, not an outage: retrying cannot heal it. The URL is never echoed. */
function assertAmqpUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('the AMQP URL does not parse');
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new Error(`the AMQP URL must be amqp: or amqps:, not ${parsed.protocol}`);
  }
  if (!parsed.hostname) throw new Error('the AMQP URL names no host');
}

function stringField(payload: unknown, field: string): string | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const value = (payload as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Two connections, each reconnecting on its own: RabbitMQ blocks a connection that publishes while
 * a memory or disk alarm lasts, and stops reading it altogether, acks included; consumers on a
 * connection of their own keep draining queues, which is what relieves the broker.
 */
class ReconnectingBroker implements Broker {
  readonly #options: BrokerOptions;
  readonly #logger: Logger;
  readonly #topologies: Topology[] = [];
  readonly #policies = new Map<string, FailurePolicy>();
  readonly #consumers = new Set<ConsumerRunner<unknown>>();
  readonly #publishing: ReconnectingConnection;
  readonly #consuming: ReconnectingConnection;
  /** Opened on the publishing connection before it counts as connected: see `#currentPublisher`. */
  #publisher: ConfirmPublisher | undefined;
  #closing = false;
  readonly #untrack: () => void;

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#publishing = new ReconnectingConnection(options, {
      purpose: 'publishing',
      topologies: this.#topologies,
      prepare: async (connection) => {
        this.#publisher = await this.#openPublisher(connection);
      },
      lost: () => {
        this.#publisher?.fail('connection closed');
        this.#publisher = undefined;
      },
    });
    this.#consuming = new ReconnectingConnection(options, {
      purpose: 'consuming',
      topologies: this.#topologies,
      // A consumer registered from now on attaches itself; the ones before are in this copy.
      ready: async (connection) => {
        for (const runner of [...this.#consumers]) await runner.attach(connection);
      },
      lost: () => {
        for (const runner of this.#consumers) runner.detach();
      },
    });
    this.#untrack = trackBroker(this);
  }

  /** Starts both connect loops; resolves after the first attempt of each, whatever the outcome. */
  async start(): Promise<void> {
    await Promise.all([this.#publishing.start(), this.#consuming.start()]);
  }

  /** Connected for publishing and for consuming: with one of them only, half the work stops. */
  isConnected(): boolean {
    return this.#publishing.current !== undefined && this.#consuming.current !== undefined;
  }

  isBlocked(): boolean {
    return this.#publishing.blockedBy !== undefined;
  }

  async declare(topology: Topology): Promise<void> {
    // Disconnected, it is recorded at once (no await before the push), so the connect attempts in
    // progress or the next ones declare it before publishing and consuming start. Connected, the
    // consuming connection is preferred: it never publishes, so an alarm does not block it.
    const connection = this.#consuming.current ?? this.#publishing.current;
    if (connection) await declareTopology(connection, topology);
    this.#topologies.push(topology);
    for (const queue of topology.queues) {
      if (queue.failure) this.#policies.set(queue.name, queue.failure);
    }
  }

  async publish(message: PublishMessage): Promise<void> {
    const publisher = this.#currentPublisher();
    if (!publisher) throw new PublishError('NOT_CONNECTED', 'not connected to the broker');
    const correlationId = message.correlationId ?? stringField(message.payload, 'correlationId');
    const causationId = message.causationId ?? stringField(message.payload, 'causationId');
    const headers: Record<string, unknown> = { ...message.headers };
    if (correlationId) headers[HEADERS.correlationId] = correlationId;
    if (causationId) headers[HEADERS.causationId] = causationId;
    await publisher.publish({
      exchange: message.exchange ?? EVENTS_EXCHANGE,
      routingKey: message.routingKey,
      content: Buffer.from(JSON.stringify(message.payload)),
      options: {
        messageId: message.messageId,
        contentType: 'application/json',
        timestamp: Math.floor(Date.now() / 1000),
        ...(correlationId ? { correlationId } : {}),
        headers,
      },
    });
  }

  async consume<T = DomainEvent>(options: ConsumeOptions<T>): Promise<ConsumerHandle> {
    const policy = this.#policies.get(options.queue);
    if (!policy) {
      throw new Error(`queue ${options.queue} has no failure policy: declare its topology first`);
    }
    const parse =
      options.parse ?? (parseDeliveredEvent as unknown as NonNullable<ConsumeOptions<T>['parse']>);
    const runner = new ConsumerRunner<T>(
      { ...options, parse },
      {
        logger: this.#logger,
        policy,
        publisher: () => this.#currentPublisher(),
        failedMoveRequeueDelayMs: this.#confirmTimeoutMs(),
        onChannelLost: (lost) => this.#reattachLater(lost),
      },
    ) as ConsumerRunner<unknown>;
    this.#consumers.add(runner);
    const connection = this.#consuming.current;
    if (connection) await runner.attach(connection);
    return {
      stopTaking: () => runner.stopTaking(),
      cancel: async () => {
        this.#consumers.delete(runner);
        await runner.stop();
      },
    };
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#untrack();
    // Handlers still running may move their messages: the publishing connection closes after them.
    await Promise.all([...this.#consumers].map((runner) => runner.stop()));
    this.#consumers.clear();
    this.#publisher?.fail('broker closed');
    this.#publisher = undefined;
    await Promise.all([this.#publishing.close(), this.#consuming.close()]);
  }

  /** Until the connection counts as connected, the topology recorded meanwhile may be missing. */
  #currentPublisher(): ConfirmPublisher | undefined {
    return this.#publishing.current ? this.#publisher : undefined;
  }

  #confirmTimeoutMs(): number {
    return this.#options.confirmTimeoutMs ?? 5_000;
  }

  async #openPublisher(connection: ChannelModel): Promise<ConfirmPublisher> {
    const channel = await connection.createConfirmChannel();
    const publisher = new ConfirmPublisher(channel, {
      confirmTimeoutMs: this.#confirmTimeoutMs(),
      blockedBy: () => this.#publishing.blockedBy,
    });
    channel.on('error', (error: Error) =>
      this.#logger.warn({ err: error }, 'publish channel error'),
    );
    channel.on('close', () => {
      // A channel-level error (e.g. an unknown exchange) closes only this channel: open another.
      if (this.#publisher !== publisher || this.#closing) return;
      if (this.#publishing.current !== connection) return;
      this.#publisher = undefined;
      this.#openPublisher(connection)
        .then((next) => {
          if (this.#publishing.current === connection) this.#publisher = next;
        })
        .catch((error) => {
          this.#logger.warn({ err: error }, 'could not reopen the publish channel');
          void connection.close().catch(() => undefined);
        });
    });
    return publisher;
  }

  #reattachLater(runner: ConsumerRunner<unknown>): void {
    const connection = this.#consuming.current;
    setTimeout(() => {
      // When the whole connection died the reconnect loop re-attaches every consumer instead.
      if (this.#closing || runner.attached || !this.#consumers.has(runner)) return;
      if (!connection || this.#consuming.current !== connection) return;
      runner.attach(connection).catch((error) => {
        this.#logger.warn({ err: error, queue: runner.queue }, 'could not re-attach consumer');
        this.#reattachLater(runner);
      });
    }, 1_000);
  }
}
