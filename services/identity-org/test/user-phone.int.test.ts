import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** The phone of each `user_registered` of `sub` in the outbox, oldest first (null: none). */
async function announcedPhones(sub: string): Promise<(string | null)[]> {
  const { rows } = await sql<{ phone: string | null }>`
    SELECT payload->'data'->>'phone' AS phone FROM outbox
    WHERE routing_key = 'identity.user_registered' AND payload->'data'->>'userId' = ${sub}
    ORDER BY id`.execute(h.db);
  return rows.map((row) => row.phone);
}

const withPhone = (sub: string, phone: unknown, verified = true) =>
  h.user({
    sub,
    name: 'Pat Phone',
    extraClaims: { phone_number: phone, phone_number_verified: verified } as never,
  });

describe("the token's phone number", () => {
  it('is mirrored and announced, so notification can send SMS', async () => {
    const sub = randomUUID();
    expect((await h.call(await withPhone(sub, '+33612345678'), 'GET', '/v1/me')).statusCode).toBe(
      200,
    );
    const announced = await h.event(
      'identity.user_registered',
      (e) => e.data.userId === sub && e.aggregate.version === 1,
    );
    expect(announced.data).toMatchObject({ userId: sub, name: 'Pat Phone', phone: '+33612345678' });
  });

  it('is kept when a token carries none, and announced again when it changes', async () => {
    const sub = randomUUID();
    await h.call(await withPhone(sub, '+33612345678'), 'GET', '/v1/me');
    // A token issued without the phone scope says nothing about the number: nothing changes.
    await h.call(await h.user({ sub, name: 'Pat Phone' }), 'GET', '/v1/me');
    expect(await announcedPhones(sub)).toEqual(['+33612345678']);
    await h.call(await withPhone(sub, '+447700900123'), 'GET', '/v1/me');
    expect(await announcedPhones(sub)).toEqual(['+33612345678', '+447700900123']);
  });

  it('is left out when it is not a number in E.164 form, without refusing the caller', async () => {
    const sub = randomUUID();
    expect((await h.call(await withPhone(sub, '06 12 34 56 78'), 'GET', '/v1/me')).statusCode).toBe(
      200,
    );
    expect(await announcedPhones(sub)).toEqual([null]);
  });

  it('is left out while the token does not say it is verified, so no SMS go to it', async () => {
    const sub = randomUUID();
    // Anyone may type in someone else's number for themselves.
    await h.call(await withPhone(sub, '+33612345678', false), 'GET', '/v1/me');
    expect(await announcedPhones(sub)).toEqual([null]);
    await h.call(await withPhone(sub, '+33612345678'), 'GET', '/v1/me');
    expect(await announcedPhones(sub)).toEqual([null, '+33612345678']);
  });
});
