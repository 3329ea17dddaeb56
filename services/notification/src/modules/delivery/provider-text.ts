import { toStorableText } from '@happening/service-kit';
import type { NotificationChannel } from '../../domain.ts';

/** Longest provider error kept (`last_error`, the `notification_failed` event). */
export const MAX_ERROR_LENGTH = 1_000;
/** Longest provider message id kept (`provider_message_id`). */
export const MAX_PROVIDER_ID_LENGTH = 200;

/**
 * The first `maxLength` characters of a provider's answer, without the word the cut would split:
 * half a phone number or token left at the end is too short for `errorWithoutAddresses` to know
 * it, and would show its first digits.
 */
export function excerpt(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  return `${text.slice(0, maxLength).replace(/[^\s"',;:<>()[\]{}]+$/, '')}…`;
}

/**
 * A text a provider chose (its error body, its message id) made storable: Postgres refuses NUL in
 * `text` and `jsonb`, and `jsonb` an unpaired surrogate, so a provider answering with either made
 * the outcome of a send impossible to record and the notification was sent again and again. NULs
 * are dropped, unpaired surrogates become U+FFFD (`toStorableText`), and the text is cut to
 * `maxLength` characters (an ellipsis last) without splitting a surrogate pair.
 */
export function storableText(text: string, maxLength: number): string {
  const clean = toStorableText(text);
  if (clean.length <= maxLength) return clean;
  return `${clean.slice(0, maxLength - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

/**
 * Another email address in a provider's answer, as loosely as the addresses people log in with
 * are taken (`emailAddressSchema`): a local part, quoted or not, `@`, and a domain with or without
 * a dot (`ops@localhost`), in any script (`ada@bücher.de`), or an address literal
 * (`root@[192.0.2.1]`). A bare local part stops at what delimits one in URLs and prose (`=`, `/`,
 * a quote); its length is bounded, so a long answer without an address is scanned in linear time.
 */
const EMAIL_ADDRESS =
  /(?:"[^"\r\n]{0,62}"|[^\s<>()[\]"',;:@/?&=]{1,256})@(?:\[[^\]\s]{1,253}\]|[^\s<>()[\]"',;:@/?&=]{1,253})/g;
/** A phone number as SMS providers quote it: with or without `+` or `00`, spaced or dashed. */
const PHONE_NUMBER = /\+?\d[\d\s().-]{5,}\d/g;

/**
 * A delivery error as it leaves the service (an organization's admins' list, the
 * `notification_failed` event, the logs and the dead-letter header): the person's address or
 * number, and any other email address a provider's answer quotes (`550 5.1.1 <ada@example.com>:
 * unknown user`), left out; for an SMS, any run of digits long enough to be a number too,
 * whatever its format. `last_error` keeps the answer as it came.
 */
export function errorWithoutAddresses(
  error: string,
  recipient: string,
  channel: NotificationChannel,
): string;
export function errorWithoutAddresses(
  error: string | null,
  recipient: string,
  channel: NotificationChannel,
): string | null;
export function errorWithoutAddresses(
  error: string | null,
  recipient: string,
  channel: NotificationChannel,
): string | null {
  if (error === null) return null;
  // The recipient first, whole, whatever it holds (`o'brien@…`, a device token): the pattern
  // below would take only the part of an address after a quote or a slash, leaving the rest.
  let shown = recipient === '' ? error : error.replace(wholeWord(recipient), '<recipient>');
  shown = shown.replace(EMAIL_ADDRESS, '<address>');
  // A number or a device token is left out wherever it stands (`%22AbC123%22`, `token=AbC123-old`):
  // unlike an address, nothing longer that contains it is anyone else's.
  if (recipient !== '' && channel !== 'email') {
    shown = shown.replace(anywhere(recipient), '<recipient>');
  }
  if (channel === 'sms') shown = shown.replace(PHONE_NUMBER, '<number>');
  return shown;
}

const escaped = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** Every occurrence of `text`, in any case. */
function anywhere(text: string): RegExp {
  return new RegExp(escaped(text), 'giu');
}

/**
 * Every occurrence of `text` in any case that is not part of a longer address, number or token:
 * `ada@example.com` in `bob.ada@example.com` or `ada@example.com.au` is another address.
 */
function wholeWord(text: string): RegExp {
  return new RegExp(
    `(?<![\\p{L}\\p{N}._%+-])${escaped(text)}(?![\\p{L}\\p{N}-]|\\.[\\p{L}\\p{N}])`,
    'giu',
  );
}
