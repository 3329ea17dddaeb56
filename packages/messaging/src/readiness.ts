import type { Broker } from './broker.ts';

/** A `/readyz` check: the broker connection is up (it reconnects by itself when it is not). */
export function brokerReadiness(broker: Pick<Broker, 'isConnected'>): () => Promise<void> {
  return async () => {
    if (!broker.isConnected()) throw new Error('not connected to RabbitMQ');
  };
}
