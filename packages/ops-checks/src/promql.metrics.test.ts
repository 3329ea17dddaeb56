import { describe, expect, it } from 'vitest';
import { absentSelectors, metricNamesIn } from './promql.metrics.ts';

describe('metricNamesIn', () => {
  it('finds the series under functions and aggregations, not label names or functions', () => {
    const expr =
      'histogram_quantile(0.99, sum by (service, route, le) (rate(http_request_duration_seconds_bucket{service=~"$service"}[$__rate_interval])))';
    expect(metricNamesIn(expr)).toEqual(['http_request_duration_seconds_bucket']);
  });

  it('finds both sides of a ratio and ignores strings with metric-like words', () => {
    const expr =
      'sum by (channel) (rate(happening_notifications_total{outcome="failed"}[15m])) / sum by (channel) (rate(other_total[15m])) > 0.1';
    expect(metricNamesIn(expr).sort()).toEqual(['happening_notifications_total', 'other_total']);
  });

  it('reads label_values queries and regex matchers with escapes', () => {
    expect(metricNamesIn('label_values(http_request_duration_seconds_count, service)')).toEqual([
      'http_request_duration_seconds_count',
    ]);
    expect(
      metricNamesIn('sum by (queue) (rabbitmq_queue_messages{queue=~".*\\\\.dlq"}) > 0'),
    ).toEqual(['rabbitmq_queue_messages']);
  });

  it('ignores keywords, numbers and topk parameters', () => {
    expect(
      metricNamesIn('topk(10, max by (event_id) (happening_waitlist_length)) and on (x) up == 0'),
    ).toEqual(['happening_waitlist_length', 'up']);
  });
});

describe('absentSelectors', () => {
  it('reads the selector of every absent() call, spacing normalised', () => {
    expect(
      absentSelectors('absent(up{service="catalog"}) or absent( up { service = "booking" } )'),
    ).toEqual(['up{service="catalog"}', 'up{service="booking"}']);
  });

  it('ignores absent_over_time and expressions without absent()', () => {
    expect(absentSelectors('absent_over_time(up{service="catalog"}[5m])')).toEqual([]);
    expect(absentSelectors('up == 0')).toEqual([]);
  });
});
