import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type App, createApp } from './app.factory.ts';
import { MAX_FIELD_ERRORS } from './problem.ts';
import { MAX_JSON_NESTING, toStorableText, unstorableInputErrors } from './storable-input.ts';

const NUL = '\u0000';

describe('unstorableInputErrors', () => {
  it('finds nothing in text without NUL', () => {
    expect(
      unstorableInputErrors('body', { name: 'Acme', tags: ['a', 'b'], seats: 2, ok: null }),
    ).toEqual([]);
    expect(unstorableInputErrors('query', undefined)).toEqual([]);
  });

  it('names every string holding NUL by its path, however deep', () => {
    const errors = unstorableInputErrors('body', {
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
    expect(
      unstorableInputErrors('body', { meta: { [`k${NUL}`]: 'v' } }).map((e) => e.path),
    ).toEqual(['body.meta']);
  });

  it('names the part itself when it is a string', () => {
    expect(unstorableInputErrors('body', `text${NUL}`).map((e) => e.path)).toEqual(['body']);
  });

  it('names strings and keys holding an unpaired surrogate, not a well-formed pair', () => {
    const errors = unstorableInputErrors('body', {
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
    expect(unstorableInputErrors('body', Buffer.from([0, 0, 0]))).toEqual([]);
  });

  it('takes arrays and objects nested MAX_JSON_NESTING levels deep', () => {
    let value: unknown = 'bottom';
    for (let depth = 0; depth < MAX_JSON_NESTING; depth++)
      value = depth % 2 ? [value] : { a: value };
    expect(unstorableInputErrors('body', value)).toEqual([]);
  });

  it('names the first array or object nested deeper, once per branch, however deep it goes', () => {
    let deep: unknown = NUL;
    for (let depth = 0; depth < 100_000; depth++) deep = [deep];
    const errors = unstorableInputErrors('body', { settings: deep, name: `x${NUL}` });
    expect(errors.map((e) => e.path)).toEqual([
      `body.settings${'.0'.repeat(MAX_JSON_NESTING - 1)}`,
      'body.name',
    ]);
    expect(errors[0]?.message).toMatch(/more than 32 levels/);
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

  it('yields text unstorableInputErrors finds nothing in, repeatably', () => {
    const dirty = `a${NUL}\uD800b\uDC00🚀`;
    expect(unstorableInputErrors('body', dirty)).toHaveLength(1);
    for (let round = 0; round < 3; round++) {
      const clean = toStorableText(dirty);
      expect(clean).toBe('a\uFFFDb\uFFFD🚀');
      expect(unstorableInputErrors('body', clean)).toEqual([]);
      expect(unstorableInputErrors('body', 'x\uD800')).toHaveLength(1);
    }
  });
});

describe('createApp refuses input Postgres cannot store', () => {
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
    ['NUL characters', Array.from({ length: 7_200 }, () => NUL), /NUL/],
    ['values of the wrong type', Array.from({ length: 7_200 }, (_, i) => i), /string/],
  ])('names the first MAX_FIELD_ERRORS of thousands of %s, not each', async (_what, tags, message) => {
    const res = await post('/v1/notes/n1', { text: 'hi', tags });
    expect(res.statusCode).toBe(400);
    const { errors } = res.json<{ errors: { path: string; message: string }[] }>();
    expect(errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(errors[0]).toEqual({ path: 'body.tags.0', message: expect.stringMatching(message) });
    expect(res.body.length).toBeLessThan(10_000);
  });

  it('names at most MAX_FIELD_ERRORS across params, query and body together', async () => {
    const query = Array.from({ length: 25 }, (_, i) => `k${i}=%00`).join('&');
    const res = await post(`/v1/notes/%00?${query}`, {
      text: NUL,
      tags: Array.from({ length: 25 }, () => NUL),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toHaveLength(MAX_FIELD_ERRORS);
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
