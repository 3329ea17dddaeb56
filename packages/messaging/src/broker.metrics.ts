import { Gauge, register } from 'prom-client';

interface TrackedBroker {
  isConnected(): boolean;
  isBlocked(): boolean;
}

const openBrokers = new Set<TrackedBroker>();

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

/**
 * 1 while RabbitMQ blocks the process's publishing connection (a memory or disk alarm): publishes
 * fail with `BLOCKED` and the outbox holds its rows; consuming goes on.
 */
export const brokerBlocked = new Gauge({
  name: 'happening_broker_blocked',
  help: '1 while RabbitMQ blocks publishing (memory or disk alarm), 0 otherwise (with several brokers: any of them)',
  registers: [register],
  collect() {
    this.set([...openBrokers].some((broker) => broker.isBlocked()) ? 1 : 0);
  },
});

/** Counts `broker` in the gauges above until the returned function is called. */
export function trackBroker(broker: TrackedBroker): () => void {
  openBrokers.add(broker);
  return () => {
    openBrokers.delete(broker);
  };
}
