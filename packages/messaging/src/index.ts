export {
  type Broker,
  type BrokerOptions,
  type ConsumerHandle,
  connectBroker,
  type PublishMessage,
} from './broker.ts';
export type { ConsumeOptions } from './consumer-runner.ts';
export { PublishError, type PublishErrorCode, UnprocessableMessage } from './errors.ts';
export { HEADERS } from './headers.ts';
export type { MessageContext } from './message-context.ts';
export {
  EVENT_SUBSCRIPTIONS,
  platformTopology,
  SUBSCRIBING_SERVICES,
  type SubscribedEvent,
  type SubscribingService,
  subscribedBy,
} from './subscriptions.ts';
export {
  type BindingSpec,
  DEFAULT_RETRY_DELAYS_MS,
  EVENTS_EXCHANGE,
  EVENTS_EXCHANGE_OPTIONS,
  type ExchangeSpec,
  eventsExchangeTopology,
  type FailurePolicy,
  mergeTopologies,
  type QueueSpec,
  type QueueTopologyOptions,
  queueTopology,
  type ServiceTopologyOptions,
  serviceTopology,
  type Topology,
  UNROUTED_EXCHANGE,
  UNROUTED_QUEUE,
} from './topology.ts';
