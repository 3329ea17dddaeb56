import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.factory.ts';
import { createLogger, maskUrlSecrets } from './logger.ts';

describe('maskUrlSecrets', () => {
  it.each([
    ['/v1/events', '/v1/events'],
    ['/v1/events?limit=5', '/v1/events?limit=5'],
    ['/v1/events?access_token=a.b.c', '/v1/events?access_token=[Redacted]'],
    [
      '/v1/events?limit=5&ID_Token=x&cursor=a%3Db&refresh_token=&code=42',
      '/v1/events?limit=5&ID_Token=[Redacted]&cursor=a%3Db&refresh_token=[Redacted]&code=[Redacted]',
    ],
    ['/v1/invites/accept?t%6Fken=secret', '/v1/invites/accept?t%6Fken=[Redacted]'],
    ['/v1/x?token', '/v1/x?token=[Redacted]'],
    ['/v1/x?%zz=1&token=s', '/v1/x?%zz=1&token=[Redacted]'],
  ])('%s is logged as %s', (url, logged) => {
    expect(maskUrlSecrets(url)).toBe(logged);
  });
});

describe('createLogger', () => {
  it("masks a token sent in the query string in fastify's request lines", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger({ name: 'log-test' }, destination);
    const app = createApp({ name: 'log-test', logger, openapi: false });
    app.get('/v1/events', async () => ({ items: [] }));
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

    const res = await app.inject({ url: `/v1/events?access_token=${token}&limit=5` });
    await app.close();

    expect(res.statusCode).toBe(200);
    const incoming = lines
      .map((line) => JSON.parse(line))
      .find((l) => l.msg === 'incoming request');
    expect(incoming.req).toMatchObject({
      method: 'GET',
      url: '/v1/events?access_token=[Redacted]&limit=5',
    });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.filter((line) => line.includes(token.slice(-20)))).toEqual([]);
  });
});
