import { describe, expect, it } from 'vitest';
import { absentSelectors, metricNamesIn, selectorsOf, selects } from './promql.metrics.ts';

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

describe('selectorsOf and selects', () => {
  const expr =
    'sum(rate(x_count{status_code=~"5..", route!~"/healthz|/metrics"}[5m])) / sum(rate(x_count[5m])) + x_count_total{a="b\\"c"}';

  it('give the matchers of each selector of one metric, none for a bare name', () => {
    expect(selectorsOf(expr, 'x_count')).toEqual([
      [
        { label: 'status_code', op: '=~', value: '5..' },
        { label: 'route', op: '!~', value: '/healthz|/metrics' },
      ],
      [],
    ]);
    expect(selectorsOf(expr, 'x_count_total')).toEqual([[{ label: 'a', op: '=', value: 'b"c' }]]);
  });

  it('match as PromQL does: regexes anchored, a missing label as the empty string', () => {
    const [errors] = selectorsOf(expr, 'x_count');
    expect(selects(errors!, { status_code: '503', route: '/v1/events' })).toBe(true);
    expect(selects(errors!, { status_code: '503', route: '/healthz' })).toBe(false);
    expect(selects(errors!, { status_code: '503', route: '/healthz/x' })).toBe(true);
    expect(selects(errors!, { status_code: '5030', route: '/v1/events' })).toBe(false);
    expect(selects([{ label: 'route', op: '!=', value: '' }], {})).toBe(false);
  });
});
