import { z } from 'zod';

/** application/problem+json body every service answers errors with. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  code: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** A page of a keyset-paginated list; nextCursor is null on the last page. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/**
 * An id from a request's path or query, in Postgres's text form (lower case): `A0EE…` and `a0ee…`
 * name one row, and ids copied into events, ordering keys, Redis keys and lock keys must not
 * tell them apart.
 */
export const requestIdSchema = z.uuid().toLowerCase();

/**
 * An email address as the identity provider holds it: one `@` between a local part and a domain,
 * no spaces or control characters, at most 320 characters. Deliverability is the mail server's to
 * judge; a stricter check here would refuse addresses people log in with (`a#b@example.com`,
 * `user@localhost`, international domains).
 */
export const emailAddressSchema = z
  .string()
  .max(320)
  .regex(
    // The control characters spelt as ranges, not `\p{Cc}`: the pattern is published in the
    // events' JSON Schema, and validators that do not read it as Unicode (Python's, ajv's with
    // unicodeRegExp off) cannot take property escapes.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    /^[^\s@\u0000-\u001F\u007F-\u009F]+@[^\s@\u0000-\u001F\u007F-\u009F]+$/,
    'Invalid email address',
  );
