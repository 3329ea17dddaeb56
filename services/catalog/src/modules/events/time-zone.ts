// Intl also takes UTC offsets (`+02:00`) as time zones in newer runtimes; an event keeps a named zone.
const OFFSET = /^[+-]/;

/**
 * The canonical name of a time zone the runtime knows, as Intl resolves it (`Europe/PARIS` →
 * `Europe/Paris`, `GMT+0` → `UTC`), or undefined for a name it does not know or an offset.
 */
export function canonicalTimeZone(value: string): string | undefined {
  if (value.trim() !== value || value === '') return undefined;
  try {
    const { timeZone } = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions();
    return OFFSET.test(timeZone) ? undefined : timeZone;
  } catch {
    return undefined;
  }
}

/** True for a time zone name the runtime knows, e.g. `Europe/Paris`. */
export function isIanaTimeZone(value: string): boolean {
  return canonicalTimeZone(value) !== undefined;
}
