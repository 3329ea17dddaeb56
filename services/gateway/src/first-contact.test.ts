import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@happening/testkit';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createFirstContact } from './first-contact.ts';

/** A real HTTP server answering `/v1/me` with the next status of `statuses` (the last repeats). */
async function identityOrg(statuses: number[]) {
  const calls: string[] = [];
  const server: Server = createServer((request, response) => {
    calls.push(String(request.headers.authorization));
    response.statusCode = statuses[Math.min(calls.length, statuses.length) - 1] as number;
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => server.close() };
}

const logger = pino({ level: 'silent' });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createFirstContact', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('announces a subject once, however many requests arrive together', async () => {
    const server = await identityOrg([200]);
    close = server.close;
    const contact = createFirstContact({ identityOrgUrl: server.url, logger });
    for (let i = 0; i < 5; i += 1) contact.seen('ann', 'Bearer a');
    await eventually(() => server.calls.length === 1);
    contact.seen('ann', 'Bearer a');
    contact.seen('bob', 'Bearer b');
    await eventually(() => server.calls.length === 2);
    await pause(50);
    expect(server.calls).toEqual(['Bearer a', 'Bearer b']);
  });

  it('tries again after a failure, not before', async () => {
    const server = await identityOrg([503, 200]);
    close = server.close;
    const contact = createFirstContact({ identityOrgUrl: server.url, logger, retryAfterMs: 150 });
    contact.seen('ann', 'Bearer a');
    await eventually(() => server.calls.length === 1);
    await pause(20);
    contact.seen('ann', 'Bearer a');
    await pause(50);
    expect(server.calls).toHaveLength(1);
    await pause(150);
    contact.seen('ann', 'Bearer a');
    await eventually(() => server.calls.length === 2);
  });

  it('announces again once the subject has been known for knownForMs', async () => {
    const server = await identityOrg([200]);
    close = server.close;
    const contact = createFirstContact({ identityOrgUrl: server.url, logger, knownForMs: 100 });
    contact.seen('ann', 'Bearer a');
    await eventually(() => server.calls.length === 1);
    await pause(150);
    contact.seen('ann', 'Bearer a');
    await eventually(() => server.calls.length === 2);
  });
});
