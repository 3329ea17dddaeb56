import { type DomainEvent, parseEvent } from '@happening/contracts';
import amqp, { type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff.ts';
import { trackBrokerConnection } from './broker.metrics.ts';
import { ConfirmPublisher } from './confirm-publisher.ts';
import { type ConsumeOptions, ConsumerRunner } from './consumer-runner.ts';
import { PublishError } from './errors.ts';
import { HEADERS } from './headers.ts';
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
  /** Stops this consumer and waits for its running handlers. */
  cancel(): Promise<void>;
}

export interface Broker {
  /** Declares exchanges, queues and bindings now and again after every reconnect. */
  declare(topology: Topology): Promise<void>;
  /** Resolves once the broker confirmed the message and routed it to a queue; rejects otherwise. */
  publish(message: PublishMessage): Promise<void>;
  /** Consumes a declared queue with manual acks; parse defaults to the contracts' `parseEvent`. */
  consume<T = DomainEvent>(options: ConsumeOptions<T>): Promise<ConsumerHandle>;
  isConnected(): boolean;
  /** Stops consuming, waits for in-flight handlers, closes the connection. */
  close(): Promise<void>;
}

/**
 * Returns after one connection attempt, connected or not: a broker that is down does not hold up
 * a service's start. Until connected (and after losing the connection) it keeps trying with
 * backoff, until `close()`. Throws at once for a URL that can never connect.
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

class ReconnectingBroker implements Broker {
  readonly #options: BrokerOptions;
  readonly #logger: Logger;
  readonly #topologies: Topology[] = [];
  readonly #policies = new Map<string, FailurePolicy>();
  readonly #consumers = new Set<ConsumerRunner<unknown>>();
  #connection: ChannelModel | undefined;
  #publisher: ConfirmPublisher | undefined;
  #reconnecting: Promise<void> | undefined;
  #closing = false;
  /** Cuts the reconnect loop's backoff wait short when closing. */
  #wake: (() => void) | undefined;
  readonly #untrack: () => void;

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#untrack = trackBrokerConnection(this);
  }

  /** Starts the connect loop; resolves after its first attempt, whatever the outcome. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      void this.#reconnect(resolve);
    });
  }

  isConnected(): boolean {
    return this.#connection !== undefined;
  }

  async declare(topology: Topology): Promise<void> {
    // Disconnected, it is recorded at once (no await before the push), so the connect attempt in
    // progress or the next one declares it before publishing and consuming start.
    if (this.#connection) await this.#declareOn(this.#connection, topology);
    this.#topologies.push(topology);
    for (const queue of topology.queues) {
      if (queue.failure) this.#policies.set(queue.name, queue.failure);
    }
  }

  async publish(message: PublishMessage): Promise<void> {
    const publisher = this.#publisher;
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
    const parse = options.parse ?? (parseEvent as unknown as (raw: unknown) => T);
    const runner = new ConsumerRunner<T>(
      { ...options, parse },
      {
        logger: this.#logger,
        policy,
        publisher: () => this.#publisher,
        onChannelLost: (lost) => this.#reattachLater(lost),
      },
    ) as ConsumerRunner<unknown>;
    this.#consumers.add(runner);
    if (this.#connection) await runner.attach(this.#connection);
    return {
      cancel: async () => {
        this.#consumers.delete(runner);
        await runner.stop();
      },
    };
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    this.#untrack();
    await Promise.all([...this.#consumers].map((runner) => runner.stop()));
    this.#consumers.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#publisher?.fail('broker closed');
    this.#publisher = undefined;
    await connection?.close().catch(() => undefined);
  }

  /**
   * One connect loop at a time, the first connection's as every reconnect's; resolves once
   * connected (or closing). `afterFirstAttempt` is called once the first attempt succeeded or failed.
   */
  #reconnect(afterFirstAttempt?: () => void): Promise<void> {
    this.#reconnecting ??= (async () => {
      const backoff = {
        initialDelayMs: this.#options.reconnect?.initialDelayMs ?? 250,
        maxDelayMs: this.#options.reconnect?.maxDelayMs ?? 10_000,
      };
      for (let attempt = 0; !this.#closing; attempt++) {
        try {
          await this.#connectOnce();
          this.#logger.info({ attempt }, 'connected to the broker');
          return;
        } catch (error) {
          if (this.#closing) return;
          const delay = backoffDelay(attempt, backoff);
          this.#logger.warn(
            { err: error, attempt, delayMs: delay },
            'broker connection failed, retrying',
          );
          afterFirstAttempt?.();
          afterFirstAttempt = undefined;
          await this.#sleep(delay);
        }
      }
    })().finally(() => {
      afterFirstAttempt?.();
      this.#reconnecting = undefined;
    });
    return this.#reconnecting;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  async #connectOnce(): Promise<void> {
    const connection = await amqp.connect(this.#options.url, {
      heartbeat: this.#options.heartbeatSeconds ?? 5,
      timeout: this.#options.connectTimeoutMs ?? 5_000,
    });
    let established = false;
    connection.on('error', (error: Error) =>
      this.#logger.warn({ err: error }, 'broker connection error'),
    );
    connection.on('blocked', (reason: string) =>
      this.#logger.warn({ reason }, 'broker blocked publishing'),
    );
    connection.on('unblocked', () => this.#logger.info('broker unblocked publishing'));
    connection.on('close', () => {
      if (!established || this.#connection !== connection) return;
      this.#connection = undefined;
      this.#publisher?.fail('connection closed');
      this.#publisher = undefined;
      for (const runner of this.#consumers) runner.detach();
      if (!this.#closing) {
        this.#logger.warn('broker connection closed, reconnecting');
        void this.#reconnect();
      }
    });
    try {
      let declared = 0;
      const declareRecorded = async () => {
        for (; declared < this.#topologies.length; declared++) {
          const topology = this.#topologies[declared];
          if (topology) await this.#declareOn(connection, topology);
        }
      };
      await declareRecorded();
      const publisher = await this.#openPublisher(connection);
      // Topologies recorded meanwhile. The loop's last check and setting the connection run with
      // no await between them, so a `declare()` is either declared here or sees the connection.
      while (declared < this.#topologies.length) await declareRecorded();
      if (this.#closing) throw new Error('broker closed');
      this.#publisher = publisher;
      this.#connection = connection;
      established = true;
      // A consumer registered from now on attaches itself; the ones before are in this copy.
      for (const runner of [...this.#consumers]) await runner.attach(connection);
    } catch (error) {
      if (this.#connection === connection) {
        this.#connection = undefined;
        this.#publisher?.fail('connection closed');
        this.#publisher = undefined;
      }
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  async #openPublisher(connection: ChannelModel): Promise<ConfirmPublisher> {
    const channel = await connection.createConfirmChannel();
    const publisher = new ConfirmPublisher(channel, this.#options.confirmTimeoutMs ?? 5_000);
    channel.on('error', (error: Error) =>
      this.#logger.warn({ err: error }, 'publish channel error'),
    );
    channel.on('close', () => {
      // A channel-level error (e.g. an unknown exchange) closes only this channel: open another.
      if (this.#publisher !== publisher || this.#connection !== connection || this.#closing) return;
      this.#publisher = undefined;
      this.#openPublisher(connection)
        .then((next) => {
          if (this.#connection === connection) this.#publisher = next;
        })
        .catch((error) => {
          this.#logger.warn({ err: error }, 'could not reopen the publish channel');
          void connection.close().catch(() => undefined);
        });
    });
    return publisher;
  }

  async #declareOn(connection: ChannelModel, topology: Topology): Promise<void> {
    const channel = await connection.createChannel();
    // A failed declaration rejects the call below; the channel's error event only repeats it.
    channel.on('error', () => undefined);
    try {
      for (const exchange of topology.exchanges) {
        await channel.assertExchange(exchange.name, exchange.type, {
          durable: true,
          ...(exchange.alternateExchange ? { alternateExchange: exchange.alternateExchange } : {}),
        });
      }
      for (const queue of topology.queues) {
        await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
      }
      for (const binding of topology.bindings) {
        await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  #reattachLater(runner: ConsumerRunner<unknown>): void {
    const connection = this.#connection;
    setTimeout(() => {
      // When the whole connection died the reconnect loop re-attaches every consumer instead.
      if (this.#closing || runner.attached || !this.#consumers.has(runner)) return;
      if (!connection || this.#connection !== connection) return;
      runner.attach(connection).catch((error) => {
        this.#logger.warn({ err: error, queue: runner.queue }, 'could not re-attach consumer');
        this.#reattachLater(runner);
      });
    }, 1_000);
  }
}
