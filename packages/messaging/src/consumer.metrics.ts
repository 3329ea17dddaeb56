import { Counter, register } from 'prom-client';

/** Messages taken off a queue, by what became of them. */
export const consumedMessages = new Counter({
  name: 'happening_consumer_messages_total',
  help: 'Messages consumed, by queue and outcome (processed, retried, dead_lettered, requeued: a retry or dead-letter move that failed)',
  labelNames: ['queue', 'outcome'] as const,
  registers: [register],
});

/** Messages moved to a dead-letter queue; any increase needs an operator's eyes. */
export const deadLetteredMessages = new Counter({
  name: 'happening_dlq_messages_total',
  help: 'Messages moved to a dead-letter queue, by the queue they failed on',
  labelNames: ['queue'] as const,
  registers: [register],
});
