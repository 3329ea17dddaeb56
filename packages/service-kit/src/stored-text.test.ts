import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type App, createApp } from './app.factory.ts';
import { toStorableText, unstorableTextErrors } from './stored-text.ts';

const NUL = '\u0000';

describe('unstorableTextErrors', () => {
  it('finds nothing in text without NUL', () => {
    expect(
      unstorableTextErrors('body', { name: 'Acme', tags: ['a', 'b'], seats: 2, ok: null }),
    ).toEqual([]);
    expect(unstorableTextErrors('query', undefined)).toEqual([]);
  });

  it('names every string holding NUL by its path, however deep', () => {
    const errors = unstorableTextErrors('body', {
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
    expect(unstorableTextErrors('body', { meta: { [`k${NUL}`]: 'v' } }).map((e) => e.path)).toEqual(
      ['body.meta'],
    );
  });

  it('names the part itself when it is a string', () => {
    expect(unstorableTextErrors('body', `text${NUL}`).map((e) => e.path)).toEqual(['body']);
  });

  it('names strings and keys holding an unpaired surrogate, not a well-formed pair', () => {
    const errors = unstorableTextErrors('body', {
      name: 'Concert 😀',
      high: 'a\ud800b',
      low: '\udc00',
      reversed: '\udc00\ud800',
      meta: { 'k\ud800': 'v' },
    });
    expect(errors.map((e) => e.path)).toEqual([
      'body.high',
      'body.low',
      'body.reversed',
      'body.meta',
    ]);
  });

  it('leaves buffers alone (bodies a proxy forwards untouched)', () => {
    expect(unstorableTextErrors('body', Buffer.from([0, 0, 0]))).toEqual([]);
  });

  it('walks nesting deeper than the call stack would allow', () => {
    let value: unknown = NUL;
    for (let depth = 0; depth < 100_000; depth++) value = [value];
    expect(unstorableTextErrors('body', value)).toHaveLength(1);
  });
});

describe('toStorableText', () => {
  it('leaves well-formed text alone, surrogate pairs included', () => {
    expect(toStorableText('rocket 🚀 ok')).toBe('rocket 🚀 ok');
    expect(toStorableText('')).toBe('');
  });

  it('drops NUL characters', () => {
    expect(toStorableText(`bad${NUL}`)).toBe('bad');
    expect(toStorableText(`${NUL}a${NUL}b${NUL}`)).toBe('ab');
  });

  it('replaces every unpaired surrogate, in any position, by U+FFFD', () => {
    expect(toStorableText('x\uD800y')).toBe('x\uFFFDy');
    expect(toStorableText('x\uDC00')).toBe('x\uFFFD');
    expect(toStorableText('\uDC00\uD800')).toBe('\uFFFD\uFFFD');
    expect(toStorableText('\uD83D\uD83D\uDE80')).toBe('\uFFFD🚀');
  });

  it('yields text unstorableTextErrors finds nothing in, repeatably', () => {
    const dirty = `a${NUL}\uD800b\uDC00🚀`;
    expect(unstorableTextErrors('body', dirty)).toHaveLength(1);
    for (let round = 0; round < 3; round++) {
      const clean = toStorableText(dirty);
      expect(clean).toBe('a\uFFFDb\uFFFD🚀');
      expect(unstorableTextErrors('body', clean)).toEqual([]);
      expect(unstorableTextErrors('body', 'x\uD800')).toHaveLength(1);
    }
  });
});

describe('createApp refuses text Postgres cannot store', () => {
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

  it('answers 400 VALIDATION_FAILED for an unpaired surrogate escaped in a JSON body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/notes/n1',
      headers: { 'content-type': 'application/json' },
      payload: '{"text":"caf\\ud800"}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'body.text', message: expect.stringContaining('Unicode') }],
    });
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
