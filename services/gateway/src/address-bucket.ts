/**
 * The rate-limit bucket of a client address: an IPv4 address (also written IPv4-mapped,
 * `::ffff:192.0.2.1`) is its own; an IPv6 address counts as its /64, the block one subscriber
 * line or host is given, so a client cannot step past the per-IP limit by taking another of the
 * 2^64 addresses it holds.
 */
export function addressBucket(ip: string): string {
  if (!ip.includes(':')) return ip;
  const address = ip.split('%')[0] ?? ip; // a zone (`fe80::1%eth0`) names an interface, not a host
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, `::` expanded, each in lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const groupsOf = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) =>
          // An embedded IPv4 address (`::1.2.3.4`) takes the last two groups.
          group.includes('.') ? ['0', '0'] : [group],
        );
  const first = groupsOf(head);
  const last = tail === undefined ? [] : groupsOf(tail);
  const zeros = Array.from({ length: Math.max(0, 8 - first.length - last.length) }, () => '0');
  return [...first, ...zeros, ...last].map((group) => Number.parseInt(group, 16).toString(16));
}
