import { Gauge, register } from 'prom-client';

const openBrokers = new Set<{ isConnected(): boolean }>();

/**
 * 1 while the process is connected to RabbitMQ, 0 while it is not (it reconnects by itself).
 * Not part of `/readyz`: the outbox keeps writes safe and consumers resume after a reconnect, so a
 * broker outage must not take every replica out of rotation; it is alerted on from this gauge.
 */
export const brokerConnected = new Gauge({
  name: 'happening_broker_connected',
  help: '1 while connected to RabbitMQ for publishing and consuming, 0 while reconnecting (with several brokers: all of them)',
  registers: [register],
  collect() {
    const brokers = [...openBrokers];
    this.set(brokers.length > 0 && brokers.every((broker) => broker.isConnected()) ? 1 : 0);
  },
});

/** Counts `broker` in `happening_broker_connected` until the returned function is called. */
export function trackBrokerConnection(broker: { isConnected(): boolean }): () => void {
  openBrokers.add(broker);
  return () => {
    openBrokers.delete(broker);
  };
}
