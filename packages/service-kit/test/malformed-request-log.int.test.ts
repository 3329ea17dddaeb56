import net, { type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp, createLogger } from '../src/index.ts';

describe('a malformed request, logged at debug', () => {
  const lines: string[] = [];
  let app: App;
  let port: number;
  beforeAll(async () => {
    const logger = createLogger(
      { name: 'malformed-test', level: 'debug' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    app = createApp({ name: 'malformed-test', logger });
    app.get('/v1/things', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('is refused without its raw bytes, credentials included, in the log', async () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-part.signature';
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    // Content-Length beside Transfer-Encoding: Node's parser refuses it before fastify sees it.
    socket.write(
      `GET /v1/things HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\n` +
        'Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toMatch(/^HTTP\/1\.1 400 /);
    const refused = lines.filter((line) => line.includes('malformed request refused'));
    expect(refused).toHaveLength(1);
    expect(refused[0]).not.toContain('secret-part');
    // Not as bytes either: a Buffer is logged as its numbers.
    expect(refused[0]).not.toContain('rawPacket');
  });
});
