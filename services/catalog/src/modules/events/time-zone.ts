// Area/Location names (and UTC); rules out offsets like "+02:00" that Intl also accepts.
const ZONE_NAME = /^(?:UTC|[A-Z][A-Za-z_-]+(?:\/[A-Za-z0-9_+-]+){0,2})$/;

/** True for an IANA time zone name the runtime knows, e.g. `Europe/Paris`. */
export function isIanaTimeZone(value: string): boolean {
  if (!ZONE_NAME.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
