import { toStorableText } from '@happening/service-kit';

/** Longest provider error kept (`last_error`, the `notification_failed` event). */
export const MAX_ERROR_LENGTH = 1_000;
/** Longest provider message id kept (`provider_message_id`). */
export const MAX_PROVIDER_ID_LENGTH = 200;

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
