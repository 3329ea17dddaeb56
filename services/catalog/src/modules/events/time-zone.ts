// Intl also takes UTC offsets (`+02:00`) as time zones in newer runtimes; an event keeps a named zone.
const OFFSET = /^[+-]/;

/** The zone Intl resolves `value` to, or undefined for a name it does not know or an offset. */
function resolvedZone(value: string): string | undefined {
  if (value.trim() !== value || value === '') return undefined;
  try {
    const { timeZone } = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions();
    return OFFSET.test(timeZone) ? undefined : timeZone;
  } catch {
    return undefined;
  }
}

/**
 * The name an event keeps for a time zone the runtime knows, or undefined for a name it does not
 * know or an offset. A name in the wrong case gets the runtime's spelling (`Europe/PARIS` →
 * `Europe/Paris`); any other name is kept as sent (`Asia/Kolkata`, `US/Pacific`): runtimes differ
 * in which of a zone's names they call canonical (Node 20 resolves `Asia/Kolkata` to the older
 * `Asia/Calcutta`), and a client gets back the name it chose.
 */
export function timeZoneName(value: string): string | undefined {
  const zone = resolvedZone(value);
  if (zone === undefined) return undefined;
  return zone.toLowerCase() === value.toLowerCase() ? zone : value;
}

/** True for a time zone name the runtime knows, e.g. `Europe/Paris`. */
export function isIanaTimeZone(value: string): boolean {
  return resolvedZone(value) !== undefined;
}

/** Whether two names name the same zone (`Asia/Kolkata` and `Asia/Calcutta` do). */
export function sameTimeZone(a: string, b: string): boolean {
  const zone = resolvedZone(a);
  return zone !== undefined && zone === resolvedZone(b);
}
