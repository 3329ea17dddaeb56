/** The services behind the gateway. */
export const UPSTREAMS = ['identity-org', 'catalog', 'booking', 'notification'] as const;
export type Upstream = (typeof UPSTREAMS)[number];

/** One forwarding rule: `*` matches exactly one path segment. */
export interface RouteRule {
  pattern: string;
  upstream: Upstream;
  /** Only the path itself, not what lies below it. */
  exact?: boolean;
}

/**
 * The route map of ARCHITECTURE §7a, most specific first: the first rule whose pattern is a
 * segment-wise prefix of the path (or equals it, for exact rules) wins.
 */
export const ROUTE_TABLE: readonly RouteRule[] = [
  { pattern: '/v1/me', upstream: 'identity-org', exact: true },
  { pattern: '/v1/me/memberships', upstream: 'identity-org' },
  { pattern: '/v1/me/bookings', upstream: 'booking' },
  { pattern: '/v1/me/notifications', upstream: 'notification' },
  { pattern: '/v1/me/notification-preferences', upstream: 'notification' },
  { pattern: '/v1/events/*/bookings', upstream: 'booking' },
  { pattern: '/v1/events/*/availability', upstream: 'booking' },
  { pattern: '/v1/events/*/seats', upstream: 'booking' },
  { pattern: '/v1/events/*/reconcile', upstream: 'booking' },
  { pattern: '/v1/events', upstream: 'catalog' },
  { pattern: '/v1/orgs/*/events', upstream: 'catalog' },
  { pattern: '/v1/orgs/*/notifications', upstream: 'notification' },
  { pattern: '/v1/orgs', upstream: 'identity-org' },
  { pattern: '/v1/signup', upstream: 'identity-org' },
  { pattern: '/v1/invites/accept', upstream: 'identity-org' },
  { pattern: '/v1/bookings', upstream: 'booking' },
  { pattern: '/v1/notifications', upstream: 'notification' },
];

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

const segmentsOf = (path: string) => path.split('/').slice(1);

const ANY_ORIGIN = 'http://gateway.invalid';

const compiled = ROUTE_TABLE.map((rule) => ({ ...rule, segments: segmentsOf(rule.pattern) }));

// Empty, `.` and `..` segments (also percent-encoded) could be resolved differently by the
// upstream's router than by this table, so such paths are never forwarded.
function isPlainSegment(segment: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return false;
  }
  return decoded !== '' && decoded !== '.' && decoded !== '..' && !decoded.includes('/');
}

/**
 * Whether the URL parser that builds the upstream's URL would rewrite `path` (`\` read as `/`,
 * so `x\..\..` climbs out of /v1; `#` cutting it short; characters it percent-encodes): such a
 * path could reach the upstream as another than the one `routeFor` saw, so it is not forwarded.
 */
export function rewrittenByUrlParser(path: string): boolean {
  return new URL(path, ANY_ORIGIN).pathname !== path;
}

/** The upstream serving `method path` (path without query), or undefined when none does. */
export function routeFor(method: string, path: string): Upstream | undefined {
  if (!HTTP_METHODS.has(method.toUpperCase()) || !path.startsWith('/')) return undefined;
  const segments = segmentsOf(path);
  if (!segments.every(isPlainSegment)) return undefined;
  const rule = compiled.find(
    (r) =>
      (r.exact ? segments.length === r.segments.length : segments.length >= r.segments.length) &&
      r.segments.every((expected, i) => expected === '*' || expected === segments[i]),
  );
  return rule?.upstream;
}
