import type { FastifyInstance } from 'fastify';
import { type FieldError, problem, sendProblem } from './problem.ts';

const NUL = '\u0000';
const IN_VALUE = 'Must not contain the NUL character (\\u0000).';
const IN_KEY = 'Keys must not contain the NUL character (\\u0000).';

/** Parsed JSON, or fastify's params and query (whose prototype has a null prototype). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * Field paths (`body.tags.1`) of every string in `value` holding the NUL character, which
 * Postgres refuses in text and jsonb. Only JSON-like data is walked: a Buffer is left alone.
 */
export function nulFieldErrors(prefix: string, value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  // An explicit stack: a 64 KiB body can nest arrays deeper than the call stack goes.
  const pending: [string, unknown][] = [[prefix, value]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [path, current] = next;
    if (typeof current === 'string') {
      if (current.includes(NUL)) errors.push({ path, message: IN_VALUE });
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        pending.push([`${path}.${index}`, current[index]]);
      }
    } else if (isPlainObject(current)) {
      const keys = Object.keys(current);
      if (keys.some((key) => key.includes(NUL))) errors.push({ path, message: IN_KEY });
      for (const key of keys.reverse()) pending.push([`${path}.${key}`, current[key]]);
    }
  }
  return errors;
}

/**
 * Refuses a request with NUL in its params, query or body as 400 `VALIDATION_FAILED`, in the
 * shape of a schema failure, before any handler can hand the text to Postgres (a 500 there).
 */
export function installNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const errors = [
      ...nulFieldErrors('params', request.params),
      ...nulFieldErrors('query', request.query),
      ...nulFieldErrors('body', request.body),
    ];
    if (errors.length === 0) return;
    request.log.info({ errors }, 'request validation failed');
    return sendProblem(
      reply,
      problem(400, 'VALIDATION_FAILED', 'The request is not valid.', { errors }),
    );
  });
}
