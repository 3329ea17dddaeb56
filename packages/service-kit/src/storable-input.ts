import type { FastifyInstance } from 'fastify';
import { type FieldError, MAX_FIELD_ERRORS, problem, sendProblem } from './problem.ts';

const NUL = '\u0000';
/**
 * A UTF-16 surrogate not part of a pair: no character, and jsonb refuses its `\ud800` escape.
 * Global for `replace`; `search` and `replace` both start from the beginning whatever `lastIndex`.
 */
const LONE_SURROGATE = /\p{Surrogate}/gu;
const NUL_IN_VALUE = 'Must not contain the NUL character (\\u0000).';
const NUL_IN_KEY = 'Keys must not contain the NUL character (\\u0000).';
const LONE_SURROGATE_IN_VALUE = 'Must be well-formed Unicode (no unpaired surrogate).';
const LONE_SURROGATE_IN_KEY = 'Keys must be well-formed Unicode (no unpaired surrogate).';

/** Why Postgres would refuse `text` in text or jsonb, if it would. */
function unstorable(text: string, inKey: boolean): string | undefined {
  if (text.includes(NUL)) return inKey ? NUL_IN_KEY : NUL_IN_VALUE;
  if (text.search(LONE_SURROGATE) !== -1)
    return inKey ? LONE_SURROGATE_IN_KEY : LONE_SURROGATE_IN_VALUE;
  return undefined;
}

/**
 * The text with what Postgres refuses in text or jsonb removed: NUL characters dropped, unpaired
 * surrogates replaced by U+FFFD. For text the service did not choose (a provider's answer).
 */
export function toStorableText(text: string): string {
  return text.replaceAll(NUL, '').replace(LONE_SURROGATE, '\uFFFD');
}

/** Parsed JSON, or fastify's params and query (whose prototype has a null prototype). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * Arrays and objects one value may nest: far beyond what any route takes, far below what
 * `JSON.stringify` (the database driver's, the audit trail's, the answer's) can write back before
 * it overflows the call stack (a few thousand levels), which would answer a 500.
 */
export const MAX_JSON_NESTING = 32;
const TOO_DEEP = `Must not nest arrays and objects more than ${MAX_JSON_NESTING} levels deep.`;

/**
 * Field paths (`body.tags.1`) of every string in `value` Postgres would refuse in text or jsonb:
 * one holding the NUL character, or an unpaired surrogate (which JSON can carry as `\ud800`);
 * and of the first array or object nested deeper than `MAX_JSON_NESTING` on each branch; at most
 * `MAX_FIELD_ERRORS` of them, the first ones.
 * Only JSON-like data is walked: a Buffer is left alone.
 */
export function unstorableInputErrors(prefix: string, value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  // An explicit stack: a 64 KiB body can nest arrays deeper than the call stack goes.
  const pending: [string, unknown, number][] = [[prefix, value, 0]];
  for (
    let next = pending.pop();
    next !== undefined && errors.length < MAX_FIELD_ERRORS;
    next = pending.pop()
  ) {
    const [path, current, depth] = next;
    if (typeof current === 'string') {
      const why = unstorable(current, false);
      if (why) errors.push({ path, message: why });
    } else if (Array.isArray(current) || isPlainObject(current)) {
      if (depth === MAX_JSON_NESTING) {
        errors.push({ path, message: TOO_DEEP });
      } else if (Array.isArray(current)) {
        for (let index = current.length - 1; index >= 0; index--) {
          pending.push([`${path}.${index}`, current[index], depth + 1]);
        }
      } else {
        const keys = Object.keys(current);
        const why = keys.map((key) => unstorable(key, true)).find(Boolean);
        if (why) errors.push({ path, message: why });
        for (const key of keys.reverse()) pending.push([`${path}.${key}`, current[key], depth + 1]);
      }
    }
  }
  return errors;
}

/**
 * Refuses a request with text Postgres cannot store (NUL, an unpaired surrogate), or JSON nested
 * deeper than `MAX_JSON_NESTING`, in its params, query or body as 400 `VALIDATION_FAILED`, in the
 * shape of a schema failure, before any handler can hand it to Postgres or `JSON.stringify` (a
 * 500 there).
 */
export function installStorableInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const errors = [
      ...unstorableInputErrors('params', request.params),
      ...unstorableInputErrors('query', request.query),
      ...unstorableInputErrors('body', request.body),
    ].slice(0, MAX_FIELD_ERRORS);
    if (errors.length === 0) return;
    request.log.info({ errors }, 'request validation failed');
    return sendProblem(
      reply,
      problem(400, 'VALIDATION_FAILED', 'The request is not valid.', { errors }),
    );
  });
}
