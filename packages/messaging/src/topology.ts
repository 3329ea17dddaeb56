/** The durable topic exchange every domain event is published to. */
export const EVENTS_EXCHANGE = 'happening.events';

/**
 * Where `happening.events` sends what no queue is bound for. Without it a publish with no
 * subscriber is returned and its outbox row (and every later row of its aggregate) is stuck;
 * with it the event is parked, capped, in `happening.unrouted` for an operator to look at.
 */
export const UNROUTED_EXCHANGE = 'happening.unrouted';
export const UNROUTED_QUEUE = 'happening.unrouted';
/** Options to assert `happening.events` with; every declaration of it must agree on them. */
export const EVENTS_EXCHANGE_OPTIONS = {
  durable: true,
  alternateExchange: UNROUTED_EXCHANGE,
} as const;
const UNROUTED_MAX_LENGTH = 100_000;
const UNROUTED_TTL_MS = 7 * 24 * 3600 * 1000;

/** Retry delays used when a queue names none: 1 s, 10 s, 60 s. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 10_000, 60_000];

/**
 * Redeliveries a quorum queue allows before it dead-letters a message on its own. Handler failures
 * go through the retry queues instead; this cap only catches consumers that die mid-message.
 */
export const DEFAULT_DELIVERY_LIMIT = 10;

export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'direct' | 'fanout';
  /** Exchange that receives messages this one cannot route. */
  alternateExchange?: string;
}

/** Where a message goes when its handler fails (retry queues in order) or it cannot be handled. */
export interface FailurePolicy {
  retryQueues: string[];
  deadLetterQueue: string;
}

export interface QueueSpec {
  name: string;
  /** Extra queue arguments (x-queue-type, TTL, dead-letter routing). */
  arguments: Record<string, unknown>;
  /** Set on queues that are consumed: how failed messages move on. */
  failure?: FailurePolicy;
}

export interface BindingSpec {
  exchange: string;
  queue: string;
  routingKey: string;
}

/** Exchanges, queues and bindings as data, declared by `broker.declare`. */
export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

export interface QueueTopologyOptions {
  /** Routing keys bound on `exchange` (default `happening.events`). */
  bindings?: string[];
  exchange?: string;
  /** One retry queue per delay, in order; messages wait there, then return to the queue. */
  retryDelaysMs?: readonly number[];
  /** Prefix of the retry queues (`<prefix>.<n>`); default `<queue>.retry`. */
  retryPrefix?: string;
  /** Dead-letter queue; default `<queue>.dlq`. */
  deadLetterQueue?: string;
  deliveryLimit?: number;
}

/** `happening.events` with its alternate exchange and the capped queue of unrouted events. */
export function eventsExchangeTopology(): Topology {
  return {
    exchanges: [
      { name: UNROUTED_EXCHANGE, type: 'fanout' },
      { name: EVENTS_EXCHANGE, type: 'topic', alternateExchange: UNROUTED_EXCHANGE },
    ],
    queues: [
      {
        name: UNROUTED_QUEUE,
        arguments: {
          'x-queue-type': 'quorum',
          'x-max-length': UNROUTED_MAX_LENGTH,
          'x-message-ttl': UNROUTED_TTL_MS,
        },
      },
    ],
    bindings: [{ exchange: UNROUTED_EXCHANGE, queue: UNROUTED_QUEUE, routingKey: '' }],
  };
}

function exchangeTopology(exchange: string): Topology {
  if (exchange === EVENTS_EXCHANGE) return eventsExchangeTopology();
  return { exchanges: [{ name: exchange, type: 'topic' }], queues: [], bindings: [] };
}

/**
 * A consumed quorum queue with its retry queues (TTL, dead-lettering back to the queue through
 * the default exchange so only this queue sees the retry) and its dead-letter queue.
 */
export function queueTopology(queue: string, options: QueueTopologyOptions = {}): Topology {
  const exchange = options.exchange ?? EVENTS_EXCHANGE;
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const retryPrefix = options.retryPrefix ?? `${queue}.retry`;
  const deadLetterQueue = options.deadLetterQueue ?? `${queue}.dlq`;
  const retryQueues = delays.map((_, index) => `${retryPrefix}.${index + 1}`);
  const quorum = { 'x-queue-type': 'quorum' };
  const own: Topology = {
    exchanges: [],
    queues: [
      {
        name: queue,
        arguments: {
          ...quorum,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': deadLetterQueue,
          'x-delivery-limit': options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT,
        },
        failure: { retryQueues, deadLetterQueue },
      },
      ...delays.map((delay, index) => ({
        name: retryQueues[index] as string,
        arguments: {
          ...quorum,
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
        },
      })),
      { name: deadLetterQueue, arguments: { ...quorum } },
    ],
    bindings: (options.bindings ?? []).map((routingKey) => ({ exchange, queue, routingKey })),
  };
  return options.bindings?.length ? mergeTopologies(exchangeTopology(exchange), own) : own;
}

export interface ServiceTopologyOptions {
  /** Routing keys (event types or topic patterns) the service consumes. */
  bindings: string[];
  retryDelaysMs?: readonly number[];
  deliveryLimit?: number;
}

/**
 * A service's event topology: `happening.events`, the `<service>.events` quorum queue bound to
 * `bindings`, retry queues `<service>.retry.<n>` and the dead-letter queue `<service>.dlq`.
 */
export function serviceTopology(service: string, options: ServiceTopologyOptions): Topology {
  const topology = queueTopology(`${service}.events`, {
    bindings: options.bindings,
    retryPrefix: `${service}.retry`,
    deadLetterQueue: `${service}.dlq`,
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
    ...(options.deliveryLimit ? { deliveryLimit: options.deliveryLimit } : {}),
  });
  // The exchange exists even for a service that consumes nothing: it publishes there.
  return mergeTopologies(eventsExchangeTopology(), topology);
}

/** Joins topologies (e.g. a service's events and its work queues) into one. */
export function mergeTopologies(...topologies: Topology[]): Topology {
  const exchanges = new Map<string, ExchangeSpec>();
  const queues = new Map<string, QueueSpec>();
  const bindings = new Map<string, BindingSpec>();
  for (const topology of topologies) {
    for (const e of topology.exchanges) exchanges.set(e.name, e);
    for (const q of topology.queues) queues.set(q.name, q);
    for (const b of topology.bindings) bindings.set(`${b.exchange}|${b.queue}|${b.routingKey}`, b);
  }
  return {
    exchanges: [...exchanges.values()],
    queues: [...queues.values()],
    bindings: [...bindings.values()],
  };
}
