import amqp, { type ChannelModel } from 'amqplib';
import { backoffDelay } from './backoff.ts';
import type { BrokerOptions } from './broker.ts';
import type { Topology } from './topology.ts';

/** What one connection is for: named in its log lines and, to operators, on the broker. */
export type ConnectionPurpose = 'publishing' | 'consuming';

export interface ConnectionUse {
  purpose: ConnectionPurpose;
  /** Declared on every new connection before it counts as connected; read again after each await. */
  topologies: readonly Topology[];
  /** Runs on a new connection after the topology, before it counts as connected. */
  prepare?(connection: ChannelModel): Promise<void>;
  /** Runs once it counts as connected; a rejection, or a close meanwhile, makes the loop try again. */
  ready?(connection: ChannelModel): Promise<void>;
  /** Runs when a connection is lost or fails to be set up: forget what was opened on it. */
  lost(): void;
}

type ConnectionOptions = Pick<
  BrokerOptions,
  'url' | 'logger' | 'reconnect' | 'heartbeatSeconds' | 'connectTimeoutMs'
>;

/**
 * One AMQP connection, kept open: connects with backoff until `close()`, declares the recorded
 * topology on every new connection, reconnects when it is lost, and follows whether RabbitMQ
 * blocks it (a memory or disk alarm blocks every connection that publishes).
 */
export class ReconnectingConnection {
  readonly #options: ConnectionOptions;
  readonly #use: ConnectionUse;
  #connection: ChannelModel | undefined;
  #blockedBy: string | undefined;
  #reconnecting: Promise<void> | undefined;
  #closing = false;
  /** Cuts the reconnect loop's backoff wait short when closing. */
  #wake: (() => void) | undefined;

  constructor(options: ConnectionOptions, use: ConnectionUse) {
    this.#options = options;
    this.#use = use;
  }

  /** The connection while it is connected and set up. */
  get current(): ChannelModel | undefined {
    return this.#connection;
  }

  /** RabbitMQ's reason while it blocks this connection (it no longer reads from it). */
  get blockedBy(): string | undefined {
    return this.#blockedBy;
  }

  /** Starts the connect loop; resolves after its first attempt, whatever the outcome. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      void this.#reconnect(resolve);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#blockedBy = undefined;
    await connection?.close().catch(() => undefined);
  }

  /**
   * One connect loop at a time, the first connection's as every reconnect's; resolves once
   * connected (or closing). `afterFirstAttempt` is called once the first attempt succeeded or failed.
   */
  #reconnect(afterFirstAttempt?: () => void): Promise<void> {
    const { logger } = this.#options;
    const { purpose } = this.#use;
    this.#reconnecting ??= (async () => {
      const backoff = {
        initialDelayMs: this.#options.reconnect?.initialDelayMs ?? 250,
        maxDelayMs: this.#options.reconnect?.maxDelayMs ?? 10_000,
      };
      for (let attempt = 0; !this.#closing; attempt++) {
        try {
          await this.#connectOnce();
          logger.info({ attempt, connection: purpose }, 'connected to the broker');
          return;
        } catch (error) {
          if (this.#closing) return;
          const delay = backoffDelay(attempt, backoff);
          logger.warn(
            { err: error, attempt, delayMs: delay, connection: purpose },
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
    const { logger } = this.#options;
    const { purpose, topologies } = this.#use;
    const connection = await amqp.connect(this.#options.url, {
      heartbeat: this.#options.heartbeatSeconds ?? 5,
      timeout: this.#options.connectTimeoutMs ?? 5_000,
      clientProperties: { connection_name: purpose },
    });
    // Set by a close at any point, whether or not the connection counts as connected yet: a close
    // right after the last setup call resolved is announced before that call's caller resumes.
    let closed = false;
    connection.on('error', (error: Error) =>
      logger.warn({ err: error, connection: purpose }, 'broker connection error'),
    );
    connection.on('blocked', (reason: string) => {
      if (this.#connection !== connection) return;
      this.#blockedBy = reason;
      logger.warn({ reason, connection: purpose }, 'broker blocked publishing');
    });
    connection.on('unblocked', () => {
      if (this.#connection !== connection) return;
      this.#blockedBy = undefined;
      logger.info({ connection: purpose }, 'broker unblocked publishing');
    });
    connection.on('close', () => {
      closed = true;
      if (this.#connection !== connection) return;
      this.#connection = undefined;
      this.#blockedBy = undefined;
      this.#use.lost();
      if (!this.#closing) {
        logger.warn({ connection: purpose }, 'broker connection closed, reconnecting');
        void this.#reconnect();
      }
    });
    try {
      let declared = 0;
      const declareRecorded = async () => {
        for (; declared < topologies.length; declared++) {
          const topology = topologies[declared];
          if (topology) await declareTopology(connection, topology);
        }
      };
      await declareRecorded();
      await this.#use.prepare?.(connection);
      // Topologies recorded meanwhile. The loop's last check and setting the connection run with
      // no await between them, so a `declare()` is either declared here or sees the connection.
      while (declared < topologies.length) await declareRecorded();
      if (this.#closing) throw new Error('broker closed');
      if (closed) throw new Error('connection closed while being set up');
      this.#connection = connection;
      await this.#use.ready?.(connection);
      // Closed while ready ran: the close's own #reconnect() joined this loop, which must go on.
      if (closed) throw new Error('connection closed while being set up');
    } catch (error) {
      if (this.#connection === connection) this.#connection = undefined;
      this.#use.lost();
      await connection.close().catch(() => undefined);
      throw error;
    }
  }
}

/** Declares exchanges, queues and bindings on a channel of its own, closed afterwards. */
export async function declareTopology(connection: ChannelModel, topology: Topology): Promise<void> {
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
