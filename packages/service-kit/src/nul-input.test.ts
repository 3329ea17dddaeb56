import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type App, createApp } from './app.factory.ts';
import { nulFieldErrors } from './nul-input.ts';

const NUL = '\u0000';

describe('nulFieldErrors', () => {
  it('finds nothing in text without NUL', () => {
    expect(nulFieldErrors('body', { name: 'Acme', tags: ['a', 'b'], seats: 2, ok: null })).toEqual(
      [],
    );
    expect(nulFieldErrors('query', undefined)).toEqual([]);
  });

  it('names every string holding NUL by its path, however deep', () => {
    const errors = nulFieldErrors('body', {
      name: `Acme${NUL}`,
      preferences: [{ type: 'ok' }, { type: `x${NUL}y` }],
      nested: { deeper: { note: NUL } },
    });
    expect(errors.map((e) => e.path)).toEqual([
      'body.name',
      'body.preferences.1.type',
      'body.nested.deeper.note',
    ]);
    expect(errors[0]?.message).toEqual(expect.any(String));
  });

  it('names an object whose key holds NUL', () => {
    expect(nulFieldErrors('body', { meta: { [`k${NUL}`]: 'v' } }).map((e) => e.path)).toEqual([
      'body.meta',
    ]);
  });

  it('names the part itself when it is a string', () => {
    expect(nulFieldErrors('body', `text${NUL}`).map((e) => e.path)).toEqual(['body']);
  });

  it('leaves buffers alone (bodies a proxy forwards untouched)', () => {
    expect(nulFieldErrors('body', Buffer.from([0, 0, 0]))).toEqual([]);
  });

  it('walks nesting deeper than the call stack would allow', () => {
    let value: unknown = NUL;
    for (let depth = 0; depth < 100_000; depth++) value = [value];
    expect(nulFieldErrors('body', value)).toHaveLength(1);
  });
});

describe('createApp refuses NUL in request input', () => {
  let app: App;

  beforeAll(async () => {
    app = createApp({ name: 'nul-test', openapi: false });
    app.post(
      '/v1/notes/:noteId',
      {
        schema: {
          params: z.object({ noteId: z.string() }),
          querystring: z.object({ q: z.string().optional() }),
          body: z.object({ text: z.string(), tags: z.array(z.string()).optional() }),
        },
      },
      async (request) => ({ ...request.body, noteId: request.params.noteId, q: request.query.q }),
    );
    await app.ready();
  });

  afterAll(() => app.close());

  const post = (url: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url, payload });

  it('takes input without NUL', async () => {
    const res = await post('/v1/notes/n1?q=hello', { text: 'hi', tags: ['a'] });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['params', `/v1/notes/%00`, { text: 'hi' }, 'params.noteId'],
    ['query', `/v1/notes/n1?q=a%00b`, { text: 'hi' }, 'query.q'],
    ['body', `/v1/notes/n1`, { text: `hi${NUL}` }, 'body.text'],
    ['nested body', `/v1/notes/n1`, { text: 'hi', tags: ['ok', NUL] }, 'body.tags.1'],
  ])('answers 400 VALIDATION_FAILED for NUL in %s', async (_part, url, payload, path) => {
    const res = await post(url, payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ path, message: expect.any(String) }],
    });
  });
});
