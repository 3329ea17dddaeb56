import { Gauge, type Registry, register } from 'prom-client';

export interface OutboxGauges {
  lag: Gauge<'schema'>;
  unpublished: Gauge<'schema'>;
}

/** The relay's gauges, created once per registry (several relays share them by label). */
export function outboxGauges(registry: Registry = register): OutboxGauges {
  const existing = (name: string) => registry.getSingleMetric(name) as Gauge<'schema'> | undefined;
  return {
    lag:
      existing('happening_outbox_lag_seconds') ??
      new Gauge({
        name: 'happening_outbox_lag_seconds',
        help: 'Age of the oldest unpublished outbox row (0 when none)',
        labelNames: ['schema'],
        registers: [registry],
      }),
    unpublished:
      existing('happening_outbox_unpublished') ??
      new Gauge({
        name: 'happening_outbox_unpublished',
        help: 'Outbox rows not yet confirmed by the broker',
        labelNames: ['schema'],
        registers: [registry],
      }),
  };
}
