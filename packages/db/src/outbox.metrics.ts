import { Gauge, type Registry, register } from 'prom-client';

export interface OutboxGauges {
  lag: Gauge<'schema'>;
  unpublished: Gauge<'schema'>;
  lastRound: Gauge;
}

/** The relay's gauges, created once per registry (several relays share them by label). */
export function outboxGauges(registry: Registry = register): OutboxGauges {
  const existing = (name: string) => registry.getSingleMetric(name) as Gauge<'schema'> | undefined;
  const lastRoundName = 'happening_outbox_relay_last_round_timestamp_seconds';
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
    // Unlabelled: the lag and backlog gauges keep their last value while rounds fail or hang
    // (nothing measures them then), so this one says how old they are; one relay per process.
    lastRound:
      (registry.getSingleMetric(lastRoundName) as Gauge | undefined) ??
      new Gauge({
        name: 'happening_outbox_relay_last_round_timestamp_seconds',
        help: 'Unix time the outbox relay last completed a round (also one with nothing to publish or whose publishes failed); its start time until its first round',
        registers: [registry],
      }),
  };
}
