import type { Role } from '@happening/contracts';

const ROLE_NAMES: Record<Role, string> = {
  orgAdmin: 'an administrator',
  organizer: 'an organizer',
  user: 'a member',
};

/** "Tuesday, 3 March 2026 at 19:00 UTC" in the given IANA time zone (UTC by default). */
export function formatWhen(iso: string, timeZone = 'UTC'): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const format = (zone: string) =>
    new Intl.DateTimeFormat('en-GB', {
      dateStyle: 'full',
      timeStyle: 'short',
      timeZone: zone,
    }).format(date);
  try {
    return `${format(timeZone)} ${timeZone === 'UTC' ? 'UTC' : `(${timeZone})`}`;
  } catch {
    // An unknown zone name must not make the notice unsendable.
    return `${format('UTC')} UTC`;
  }
}

/** "12, 13 and 14". */
export function formatSeatList(seatNumbers: readonly number[]): string {
  const sorted = [...seatNumbers].sort((a, b) => a - b).map(String);
  if (sorted.length <= 1) return sorted.join('');
  return `${sorted.slice(0, -1).join(', ')} and ${sorted.at(-1)}`;
}

export function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

export function roleName(role: Role): string {
  return ROLE_NAMES[role] ?? role;
}
