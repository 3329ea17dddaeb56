import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deferred, eventually } from '@happening/testkit';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createFirstContact } from './first-contact.ts';

/**
 * A real HTTP server answering `/v1/me` with the next status of `statuses` (the last repeats),
 * each answer once `answerWhen` (when given) has resolved.
 */
async function identityOrg(statuses: number[], answerWhen?: Promise<unknown>) {
  const calls: string[] = [];
  const server: Server = createServer((request, response) => {
    calls.push(String(request.headers.authorization));
    const status = statuses[Math.min(calls.length, statuses.length) - 1] as number;
    void Promise.resolve(answerWhen).then(() => {
      response.statusCode = status;
      response.end('{}');
    });
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

  it('tries again on its own after a failure, not before, at most maxAttempts times', async () => {
    const server = await identityOrg([503, 401, 503, 503, 200]);
    close = server.close;
    const contact = createFirstContact({
      identityOrgUrl: server.url,
      logger,
      retryAfterMs: 500,
      maxAttempts: 3,
    });
    contact.seen('ann', 'Bearer a');
    await eventually(() => server.calls.length === 1);
    await pause(20);
    contact.seen('ann', 'Bearer a');
    await pause(50);
    expect(server.calls).toHaveLength(1);
    // No further request from ann: the failed announcement (503, then an expired token's 401) is
    // tried again by itself, three times in all.
    await eventually(() => server.calls.length === 3);
    await pause(700);
    expect(server.calls).toHaveLength(3);
    contact.close();
  });

  it('retries with a token seen while the failing announcement was still running', async () => {
    const answer = deferred();
    const server = await identityOrg([401, 200], answer.promise);
    close = server.close;
    const contact = createFirstContact({ identityOrgUrl: server.url, logger, retryAfterMs: 100 });
    contact.seen('ann', 'Bearer old');
    await eventually(() => server.calls.length === 1);
    // Identity-org has the first call and has not answered yet.
    contact.seen('ann', 'Bearer new');
    answer.resolve();
    await eventually(() => server.calls.length === 2);
    expect(server.calls).toEqual(['Bearer old', 'Bearer new']);
    contact.close();
  });

  it("retries with the caller's newest token, and not at all once closed", async () => {
    const server = await identityOrg([401, 200]);
    close = server.close;
    const contact = createFirstContact({ identityOrgUrl: server.url, logger, retryAfterMs: 300 });
    contact.seen('ann', 'Bearer old');
    await eventually(() => server.calls.length === 1);
    // Ann comes back with a fresh token before the retry.
    contact.seen('ann', 'Bearer new');
    await eventually(() => server.calls.length === 2);
    expect(server.calls).toEqual(['Bearer old', 'Bearer new']);

    const failing = await identityOrg([503]);
    const closing = createFirstContact({ identityOrgUrl: failing.url, logger, retryAfterMs: 100 });
    closing.seen('bob', 'Bearer b');
    closing.close();
    closing.seen('cid', 'Bearer c');
    await pause(400);
    failing.close();
    // Bob's announcement was already on its way; nothing after close.
    expect(failing.calls.length).toBeLessThanOrEqual(1);
  });

  it('runs at most maxInFlight announcements at once and announces the others after them', async () => {
    const calls: string[] = [];
    let running = 0;
    let mostRunning = 0;
    const server: Server = createServer((request, response) => {
      calls.push(String(request.headers.authorization));
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      setTimeout(() => {
        running -= 1;
        response.end('{}');
      }, 30);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => server.close();
    const { port } = server.address() as AddressInfo;
    const contact = createFirstContact({
      identityOrgUrl: `http://127.0.0.1:${port}`,
      logger,
      maxInFlight: 4,
      maxQueued: 30,
    });
    for (let i = 0; i < 40; i += 1) contact.seen(`user-${i}`, `Bearer ${i}`);
    // Four run, thirty wait, six are left for their next request.
    await eventually(() => calls.length === 34, { timeoutMs: 5_000 });
    await pause(100);
    expect(calls).toHaveLength(34);
    expect(mostRunning).toBe(4);
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
