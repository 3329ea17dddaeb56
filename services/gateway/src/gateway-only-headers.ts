/**
 * Request headers only the gateway may set: where a request came from (address, scheme, host,
 * port, path) and whom it speaks for. Sent by a client, they would reach the services as if the
 * gateway vouched for them, and a service that trusts its proxy would believe them.
 */
const GATEWAY_ONLY = new Set([
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-original-url',
  'x-rewrite-url',
  // Set from the client's own `x-request-id` (`client-request-id.ts`), not taken as sent.
  'x-client-request-id',
]);
const GATEWAY_ONLY_PREFIXES = ['x-forwarded-', 'x-user-', 'x-org-', 'x-tenant-', 'x-happening-'];

/** `headers` without those only the gateway may set (`x-forwarded-*`, `forwarded`, `x-user-*`...). */
export function withoutGatewayOnly<T extends Record<string, unknown>>(headers: T): T {
  const kept = { ...headers };
  for (const name of Object.keys(kept)) {
    const lower = name.toLowerCase();
    if (GATEWAY_ONLY.has(lower) || GATEWAY_ONLY_PREFIXES.some((p) => lower.startsWith(p))) {
      delete kept[name];
    }
  }
  return kept;
}
