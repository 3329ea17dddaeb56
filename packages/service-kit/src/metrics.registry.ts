import { collectDefaultMetrics, Histogram, register } from 'prom-client';

/**
 * The registry `/metrics` exposes. It is prom-client's default registry, so metrics registered
 * by the shared packages (outbox lag, consumer counts) and by services all show up in one place.
 */
export const metricsRegistry = register;

collectDefaultMetrics({ register: metricsRegistry });

/** Request latency by method, route pattern and status code. */
export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration in seconds, by method, route pattern and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});
