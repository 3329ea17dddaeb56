import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DomainError } from '@happening/service-kit';
import { type Deferred, deferred } from '@happening/testkit';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyResolver, UnknownSigningKeyError } from '../src/jwks.key-resolver.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
}

/**
 * A key set endpoint: each fetch answers the keys published when it arrived; while `held` is set,
 * the answer waits for it (`arrived` is resolved once such a fetch came).
 */
async function startKeySet(keys: JWK[]) {
  const state = {
    keys,
    fetches: 0,
    held: undefined as { arrived: Deferred; release: Deferred } | undefined,
  };
  const server = http.createServer((_request, response) => {
    state.fetches += 1;
    const body = JSON.stringify({ keys: state.keys });
    const held = state.held;
    const answer = () => {
      response.setHeader('content-type', 'application/json');
      response.end(body);
    };
    if (held === undefined) return answer();
    held.arrived.resolve();
    void held.release.promise.then(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { state, url, stop };
}

/** What resolving a header came to: `ok`, `401` (unknown key) or the DomainError's status. */
function outcome(resolving: Promise<string>): Promise<string> {
  return resolving.then(
    () => 'ok',
    (error: unknown) => {
      if (error instanceof UnknownSigningKeyError) return '401';
      if (error instanceof DomainError) return String(error.status);
      throw error;
    },
  );
}

describe('createKeyResolver', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('answers 503, not 401, to a new kid whose token joined a fetch started before it came', async () => {
    const keySet = await startKeySet([await publicJwk('K1')]);
    stop = keySet.stop;
    const cooldownMs = 300;
    const resolve = createKeyResolver(keySet.url, { cooldownMs });
    expect(await outcome(resolve({ alg: 'RS256', kid: 'K1' }))).toBe('ok');
    await pause(cooldownMs + 50);

    // A made-up kid has the key set fetched; the fetch is answered as it arrived, without K2.
    const held = { arrived: deferred(), release: deferred() };
    keySet.state.held = held;
    const madeUp = outcome(resolve({ alg: 'RS256', kid: 'made-up' }));
    await held.arrived.promise;
    // K2 is published, and its first token comes while that fetch is still under way.
    keySet.state.keys = [...keySet.state.keys, await publicJwk('K2')];
    const firstOfK2 = outcome(resolve({ alg: 'RS256', kid: 'K2' }));
    await pause(20);
    keySet.state.held = undefined;
    held.release.resolve();

    expect(await madeUp).toBe('401');
    expect(await firstOfK2).toBe('503');
    expect(keySet.state.fetches).toBe(2);
    // Until the cooldown lets the key set be fetched again, K2's tokens keep answering 503.
    expect(await outcome(resolve({ alg: 'RS256', kid: 'K2' }))).toBe('503');
    await pause(cooldownMs + 50);
    expect(await outcome(resolve({ alg: 'RS256', kid: 'K2' }))).toBe('ok');
    expect(keySet.state.fetches).toBe(3);
  });

  it('answers 401 to a kid once a fetch started after its first token lacked it', async () => {
    const keySet = await startKeySet([await publicJwk('K1')]);
    stop = keySet.stop;
    const cooldownMs = 300;
    const resolve = createKeyResolver(keySet.url, { cooldownMs });
    expect(await outcome(resolve({ alg: 'RS256', kid: 'K1' }))).toBe('ok');
    // Named within the cooldown: 503; its retry has the key set fetched, without it: 401.
    expect(await outcome(resolve({ alg: 'RS256', kid: 'never-published' }))).toBe('503');
    await pause(cooldownMs + 50);
    expect(await outcome(resolve({ alg: 'RS256', kid: 'never-published' }))).toBe('401');
    expect(await outcome(resolve({ alg: 'RS256', kid: 'never-published' }))).toBe('401');
    expect(keySet.state.fetches).toBe(2);
  });

  it('refuses a kid longer than 256 characters at once, without fetching the key set', async () => {
    const keySet = await startKeySet([await publicJwk('K1')]);
    stop = keySet.stop;
    const resolve = createKeyResolver(keySet.url);
    expect(await outcome(resolve({ alg: 'RS256', kid: 'K1' }))).toBe('ok');
    // Within the cooldown, a kid of up to 256 characters may be a key rotated in since.
    expect(await outcome(resolve({ alg: 'RS256', kid: 'k'.repeat(256) }))).toBe('503');
    for (const length of [257, 16_000]) {
      expect(await outcome(resolve({ alg: 'RS256', kid: 'k'.repeat(length) }))).toBe('401');
    }
    expect(keySet.state.fetches).toBe(1);
  });
});
