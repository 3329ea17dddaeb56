import { describe, expect, it } from 'vitest';
import { EVENT_SUBSCRIPTIONS, platformTopology, SUBSCRIBING_SERVICES } from './subscriptions.ts';

const queuesOf = (service: string) => [
  `${service}.events`,
  `${service}.retry.1`,
  `${service}.retry.2`,
  `${service}.retry.3`,
  `${service}.dlq`,
];

describe('platformTopology', () => {
  it('declares every consuming service by default', () => {
    const names = platformTopology().queues.map((q) => q.name);
    for (const service of SUBSCRIBING_SERVICES)
      expect(names).toEqual(expect.arrayContaining(queuesOf(service)));
  });

  it("declares only the given consumers' queues and bindings", () => {
    const topology = platformTopology(['catalog']);
    expect(topology.queues.map((q) => q.name).sort()).toEqual(
      ['happening.unrouted', ...queuesOf('catalog')].sort(),
    );
    expect(new Set(topology.bindings.map((b) => b.queue))).toEqual(
      new Set(['happening.unrouted', 'catalog.events']),
    );
    expect(
      topology.bindings.filter((b) => b.queue === 'catalog.events').map((b) => b.routingKey),
    ).toEqual([...EVENT_SUBSCRIPTIONS.catalog]);
  });

  it('declares the same queue arguments for a consumer whoever else is declared', () => {
    const alone = platformTopology(['booking']).queues;
    const all = platformTopology().queues;
    for (const queue of alone) expect(all.find((q) => q.name === queue.name)).toEqual(queue);
  });

  it('declares only the exchanges and happening.unrouted for no consumer', () => {
    const topology = platformTopology([]);
    expect(topology.queues.map((q) => q.name)).toEqual(['happening.unrouted']);
    expect(topology.exchanges.map((e) => e.name).sort()).toEqual(
      ['happening.events', 'happening.unrouted'].sort(),
    );
  });
});
