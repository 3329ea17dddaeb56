import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/index.ts';
import { captureLogs } from './log-capture.ts';
import { sendRaw } from './raw-http.ts';

describe('a malformed request, logged at debug', () => {
  const { logger, lines } = captureLogs();
  let app: App;
  let port: number;
  beforeAll(async () => {
    app = createApp({ name: 'malformed-test', logger });
    app.get('/v1/things', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('is refused without its raw bytes, credentials included, in the log', async () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-part.signature';
    // Content-Length beside Transfer-Encoding: Node's parser refuses it before fastify sees it.
    const { status } = await sendRaw(
      port,
      `GET /v1/things HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\n` +
        'Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    expect(status).toBe(400);
    const refused = lines
      .filter((line) => line.msg === 'malformed request refused')
      .map((line) => JSON.stringify(line));
    expect(refused).toHaveLength(1);
    expect(refused[0]).not.toContain('secret-part');
    // Not as bytes either: a Buffer is logged as its numbers.
    expect(refused[0]).not.toContain('rawPacket');
  });
});
