import { describe, expect, it } from 'vitest';
import { findRegistrations, isExported } from './metric-registrations.ts';

describe('findRegistrations', () => {
  it('finds prom-client constructors with a literal name, typed or namespaced', () => {
    const source = `
      const a = new Counter({ name: 'happening_bookings_total', help: 'x', labelNames: ['outcome'] });
      const b = new client.Gauge<'queue'>({
        help: 'depth',
        name: "happening_waitlist_length",
      });
      const c = new Histogram({ name: \`http_request_duration_seconds\`, help: 'h' });
      const notAMetric = new Map({ name: 'happening_fake_total' });
    `;
    expect(findRegistrations(source).map((r) => [r.type, r.name])).toEqual([
      ['Counter', 'happening_bookings_total'],
      ['Gauge', 'happening_waitlist_length'],
      ['Histogram', 'http_request_duration_seconds'],
    ]);
  });
});

describe('isExported', () => {
  const registrations = [
    { type: 'Histogram' as const, name: 'http_request_duration_seconds', file: '' },
    { type: 'Counter' as const, name: 'happening_bookings_total', file: '' },
  ];

  it('maps histogram series to their histogram', () => {
    expect(isExported('http_request_duration_seconds_bucket', registrations, false)).toBe(true);
    expect(isExported('http_request_duration_seconds_count', registrations, false)).toBe(true);
    expect(isExported('happening_bookings_total_count', registrations, false)).toBe(false);
  });

  it('accepts default process metrics only when collectDefaultMetrics runs', () => {
    expect(isExported('process_cpu_seconds_total', registrations, false)).toBe(false);
    expect(isExported('process_cpu_seconds_total', registrations, true)).toBe(true);
  });
});
