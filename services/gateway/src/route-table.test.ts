import { describe, expect, it } from 'vitest';
import { rewrittenByUrlParser, routeFor } from './route-table.ts';

const ID = '7f1c1d5e-3a56-4a37-9b7c-1f0e5d2c9a11';

describe('routeFor', () => {
  it.each([
    ['POST', '/v1/signup', 'identity-org'],
    ['GET', '/v1/me', 'identity-org'],
    ['PATCH', '/v1/me', 'identity-org'],
    ['GET', '/v1/me/memberships', 'identity-org'],
    ['GET', '/v1/orgs', 'identity-org'],
    ['GET', `/v1/orgs/${ID}`, 'identity-org'],
    ['GET', `/v1/orgs/${ID}/members`, 'identity-org'],
    ['PATCH', `/v1/orgs/${ID}/members/${ID}`, 'identity-org'],
    ['POST', `/v1/orgs/${ID}/invites`, 'identity-org'],
    ['GET', `/v1/orgs/${ID}/audit`, 'identity-org'],
    ['POST', '/v1/invites/accept', 'identity-org'],
    ['GET', '/v1/events', 'catalog'],
    ['GET', `/v1/events/${ID}`, 'catalog'],
    ['PATCH', `/v1/events/${ID}`, 'catalog'],
    ['POST', `/v1/events/${ID}/publish`, 'catalog'],
    ['POST', `/v1/events/${ID}/cancel`, 'catalog'],
    ['POST', `/v1/orgs/${ID}/events`, 'catalog'],
    ['GET', `/v1/orgs/${ID}/events`, 'catalog'],
    ['POST', `/v1/events/${ID}/bookings`, 'booking'],
    ['GET', `/v1/events/${ID}/bookings`, 'booking'],
    ['GET', `/v1/events/${ID}/availability`, 'booking'],
    ['GET', `/v1/events/${ID}/seats`, 'booking'],
    ['POST', `/v1/events/${ID}/reconcile`, 'booking'],
    ['GET', `/v1/bookings/${ID}`, 'booking'],
    ['POST', `/v1/bookings/${ID}/cancel`, 'booking'],
    ['GET', `/v1/bookings/${ID}/history`, 'booking'],
    ['GET', '/v1/me/bookings', 'booking'],
    ['GET', '/v1/me/notifications', 'notification'],
    ['GET', '/v1/me/notification-preferences', 'notification'],
    ['PUT', '/v1/me/notification-preferences', 'notification'],
    ['POST', `/v1/notifications/${ID}/retry`, 'notification'],
    ['GET', `/v1/orgs/${ID}/notifications`, 'notification'],
    ['HEAD', '/v1/events', 'catalog'],
  ])('%s %s → %s', (method, path, upstream) => {
    expect(routeFor(method, path)).toBe(upstream);
  });

  it('matches `/v1/me` only exactly, and sub-paths by their own rules', () => {
    expect(routeFor('GET', '/v1/me/unknown')).toBeUndefined();
    expect(routeFor('GET', '/v1/me/bookings/extra')).toBe('booking');
  });

  it('matches whole segments, never string prefixes', () => {
    expect(routeFor('GET', '/v1/eventsx')).toBeUndefined();
    expect(routeFor('GET', '/v1/meta')).toBeUndefined();
    expect(routeFor('GET', `/v1/events/${ID}/bookingsx`)).toBe('catalog');
  });

  it('forwards nothing outside the map', () => {
    expect(routeFor('GET', '/v1')).toBeUndefined();
    expect(routeFor('GET', '/v2/events')).toBeUndefined();
    expect(routeFor('GET', '/healthz')).toBeUndefined();
    expect(routeFor('GET', '/v1/invites')).toBeUndefined();
  });

  it('refuses dot, empty and encoded-slash segments', () => {
    expect(routeFor('GET', '/v1/events/../orgs')).toBeUndefined();
    expect(routeFor('GET', '/v1/events/%2e%2e/orgs')).toBeUndefined();
    expect(routeFor('GET', '/v1//events')).toBeUndefined();
    expect(routeFor('GET', '/v1/events/')).toBeUndefined();
    expect(routeFor('GET', '/v1/events/a%2Fb')).toBeUndefined();
    expect(routeFor('GET', '/v1/events/%E0%A4%A')).toBeUndefined();
  });

  it('knows the paths the URL parser would read as others: backslashes, fragments, raw characters', () => {
    for (const path of [
      '/v1/bookings/x\\..\\..\\..\\metrics',
      '/v1/bookings/x\\y',
      '/v1/events/abc#/bookings',
      '/v1/events/"abc"',
      '/v1/events/caf\u00e9',
    ])
      expect(rewrittenByUrlParser(path), path).toBe(true);
    for (const path of ['/v1/events/caf%C3%A9', `/v1/events/${'a'.repeat(36)}/bookings`, '/v1/me'])
      expect(rewrittenByUrlParser(path), path).toBe(false);
  });

  it('forwards only the API methods', () => {
    expect(routeFor('OPTIONS', '/v1/events')).toBeUndefined();
    expect(routeFor('TRACE', '/v1/events')).toBeUndefined();
    expect(routeFor('get', '/v1/events')).toBe('catalog');
  });
});
