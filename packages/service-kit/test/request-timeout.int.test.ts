import net, { type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/index.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

describe('createApp, for a request that does not arrive in time', () => {
  let app: App;
  let port: number;
  beforeAll(async () => {
    // A short timeout, for the test: services keep the 30 s default.
    app = createApp({
      name: 'timeout-test',
      logger: pino({ level: 'silent' }),
      requestTimeoutMs: 200,
    });
    app.post('/v1/things', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    app.server.closeAllConnections();
    await app.close();
  });

  /** Writes `request` on a fresh connection, sends nothing more, and reads until it closes. */
  const sendStalled = async (request: string) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined); // the server closes as it answers
    socket.write(request);
    // A generous bound, so that a server that never answers fails the test rather than hangs it.
    const giveUp = setTimeout(() => socket.destroy(), 5_000);
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    clearTimeout(giveUp);
    const [head = '', body = ''] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const headers = Object.fromEntries(
      headerLines.map((line) => {
        const at = line.indexOf(':');
        return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
      }),
    );
    return { status: Number(statusLine.split(' ')[1]), headers, body };
  };

  it.each([
    ['headers that never end', 'POST /v1/things HTTP/1.1\r\nHost: x\r\n'],
    [
      'a body shorter than its Content-Length',
      'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"',
    ],
  ])(
    'answers %s with 408 problem+json and closes the connection',
    {
      timeout: 10_000,
    },
    async (_what, request) => {
      const res = await sendStalled(request);
      expect(res.status).toBe(408);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(JSON.parse(res.body)).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    },
  );
});

describe('createApp, for a request answered before its body arrived', () => {
  let app: App;
  let port: number;
  beforeAll(async () => {
    app = createApp({
      name: 'answered-early-test',
      logger: pino({ level: 'silent' }),
      requestTimeoutMs: 200,
    });
    // A hook answering before the body is read, as an authentication or a rate limit does.
    app.addHook('onRequest', async (_request, reply) => {
      await reply.code(401).send({ refused: true });
    });
    app.post('/v1/things', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    app.server.closeAllConnections();
    await app.close();
  });

  it('gets no 408 written after its answer once the rest of the body is late', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"',
    );
    const giveUp = setTimeout(() => socket.destroy(), 5_000);
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    clearTimeout(giveUp);
    const received = Buffer.concat(chunks).toString('utf8');
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
    expect(received).not.toContain('408');
  });
});
