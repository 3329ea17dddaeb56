import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { databaseNow } from '../src/modules/invites/invite.repository.ts';
import { recordExpiredInvites } from '../src/modules/invites/invite-expiry.job.ts';
import { type Harness, INVITE_TTL_HOURS, startHarness, type TestUser } from './harness.ts';

const HOUR_MS = 3_600_000;
const TTL_MS = INVITE_TTL_HOURS * HOUR_MS;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});
afterEach(() => {
  vi.useRealTimers();
});

const address = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

async function invite(admin: TestUser, orgId: string, email: string) {
  const res = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, { email, role: 'user' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; token: string; expiresAt: string };
}

async function inviteRow(id: string) {
  return h.db
    .selectFrom('organization_invites')
    .select(['status', 'created_at', 'expires_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Moves the invite's expiry to half an hour from now (or ago) on the database's clock. */
async function expireInHalfAnHour(id: string, sign: 1 | -1): Promise<void> {
  await sql`UPDATE organization_invites
            SET expires_at = clock_timestamp() + ${sign} * interval '30 minutes'
            WHERE id = ${id}`.execute(h.db);
}

/**
 * Sets the service's clock `offsetMs` off the database's until the test ends: the service runs in
 * this process, so faking Date moves its clock (and the test's), not the database server's.
 */
function setServiceClockOff(offsetMs: number): void {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + offsetMs);
}

describe("an invite's expiry, with the service's clock an hour off the database's", () => {
  it.each([
    { skew: 'ahead', offsetMs: HOUR_MS },
    { skew: 'behind', offsetMs: -HOUR_MS },
  ])('is written from the database clock, which writes its creation time, when the service is an hour $skew', async ({
    offsetMs,
  }) => {
    setServiceClockOff(offsetMs);
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const created = await invite(admin, orgId, address('guest'));
    const written = await inviteRow(created.id);
    expect(new Date(created.expiresAt)).toEqual(written.expires_at);
    // The TTL after created_at, which is read later in the same transaction: not an hour off.
    const ttl = written.expires_at.getTime() - written.created_at.getTime();
    expect(ttl).toBeGreaterThan(TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(TTL_MS);
  });

  // Each invite below expires half an hour from the database's now: on the other side of the
  // service's now.
  it.each([
    { skew: 'ahead', offsetMs: HOUR_MS, lapsed: false },
    { skew: 'behind', offsetMs: -HOUR_MS, lapsed: true },
  ])('is judged on the database clock when the service is an hour $skew (lapsed on it: $lapsed)', async ({
    offsetMs,
    lapsed,
  }) => {
    setServiceClockOff(offsetMs);
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const inviter = await h.addMember(orgId, admin, 'orgAdmin');
    const [revokedGuest, acceptingGuest, reinvitedGuest] = await Promise.all([
      h.user({ email: address('revoked') }),
      h.user({ email: address('accepting') }),
      h.user({ email: address('reinvited') }),
    ]);
    const toRevoke = await invite(admin, orgId, revokedGuest.email);
    const toAccept = await invite(admin, orgId, acceptingGuest.email);
    const toSupersede = await invite(admin, orgId, reinvitedGuest.email);
    const inviters = await invite(inviter, orgId, address('inviters'));

    const sign = lapsed ? -1 : 1;
    for (const { id } of [toRevoke, toAccept, toSupersede, inviters]) {
      await expireInHalfAnHour(id, sign);
    }

    const shown = await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites/${toRevoke.id}`);
    expect(shown.json().status).toBe(lapsed ? 'expired' : 'pending');
    const listed = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites`)).json().items;
    expect(listed.find((i: { id: string }) => i.id === toRevoke.id)?.status).toBe(
      lapsed ? 'expired' : 'pending',
    );

    // A re-invite judges the old invite's expiry on the database's clock...
    const again = await h.call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: reinvitedGuest.email,
      role: 'user',
    });
    expect(again.statusCode, again.body).toBe(201);
    expect((await inviteRow(toSupersede.id)).status).toBe(lapsed ? 'expired' : 'revoked');

    // ...and revoking, accepting and removing the inviter agree with it.
    const revoked = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${toRevoke.id}`);
    if (lapsed) {
      expect(revoked.statusCode, revoked.body).toBe(409);
      expect(revoked.json().code).toBe('INVITE_NOT_PENDING');
    } else {
      expect(revoked.statusCode, revoked.body).toBe(204);
    }
    expect((await inviteRow(toRevoke.id)).status).toBe(lapsed ? 'pending' : 'revoked');

    const accepted = await h.call(acceptingGuest, 'POST', '/v1/invites/accept', {
      token: toAccept.token,
    });
    if (lapsed) {
      expect(accepted.statusCode, accepted.body).toBe(410);
      expect(accepted.json().code).toBe('INVITE_EXPIRED');
    } else {
      expect(accepted.statusCode, accepted.body).toBe(200);
    }

    const removed = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/members/${inviter.sub}`);
    expect(removed.statusCode, removed.body).toBe(204);
    // A lapsed invite is left to the sweep; a live one ends with its inviter's right to invite.
    expect((await inviteRow(inviters.id)).status).toBe(lapsed ? 'pending' : 'revoked');
  });

  it('dates its acceptance and revocation on the database clock too, never before its creation, when the service is an hour behind', async () => {
    setServiceClockOff(-HOUR_MS);
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user({ email: address('accepting') });
    const toAccept = await invite(admin, orgId, guest.email);
    const toRevoke = await invite(admin, orgId, address('revoked'));

    const accepted = await h.call(guest, 'POST', '/v1/invites/accept', { token: toAccept.token });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const revoked = await h.call(admin, 'DELETE', `/v1/orgs/${orgId}/invites/${toRevoke.id}`);
    expect(revoked.statusCode, revoked.body).toBe(204);

    const shown = (await h.call(admin, 'GET', `/v1/orgs/${orgId}/invites/${toAccept.id}`)).json();
    expect(new Date(shown.acceptedAt).getTime()).toBeGreaterThanOrEqual(
      new Date(shown.createdAt).getTime(),
    );
    const row = await h.db
      .selectFrom('organization_invites')
      .select(['created_at', 'revoked_at'])
      .where('id', '=', toRevoke.id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at!.getTime()).toBeGreaterThanOrEqual(row.created_at.getTime());
  });
});

describe("identity-org's events, with the service's clock an hour off the database's", () => {
  it.each([
    { skew: 'ahead', offsetMs: HOUR_MS },
    { skew: 'behind', offsetMs: -HOUR_MS },
  ])('are dated on the database clock, as the invite expiry they carry, when the service is an hour $skew', async ({
    offsetMs,
  }) => {
    setServiceClockOff(offsetMs);
    const before = await databaseNow(h.db);
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const guest = await h.user({ email: address('joining') });
    const { token } = await invite(admin, orgId, guest.email);
    const accepted = await h.call(guest, 'POST', '/v1/invites/accept', { token });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const after = await databaseNow(h.db);

    const { rows } = await sql<{ payload: { type: string; occurredAt: string } }>`
      SELECT payload FROM outbox
      WHERE aggregate_id IN (${orgId}, ${admin.sub}, ${guest.sub}) ORDER BY id`.execute(h.db);
    expect(rows.map((row) => row.payload.type).sort()).toEqual([
      'identity.member_invited',
      'identity.member_joined',
      'identity.member_joined',
      'identity.organization_created',
      'identity.user_registered',
      'identity.user_registered',
    ]);
    for (const { payload } of rows) {
      const occurredAt = new Date(payload.occurredAt).getTime();
      expect(occurredAt, payload.type).toBeGreaterThanOrEqual(before.getTime());
      expect(occurredAt, payload.type).toBeLessThanOrEqual(after.getTime());
    }
  });
});

describe("an invite's expiry instant", () => {
  it('expires it for the sweep and a re-invite, as for revoke, accept and the reads', async () => {
    const admin = await h.user();
    const orgId = await h.signUp(admin);
    const email = address('boundary');
    const created = await invite(admin, orgId, email);
    const at = new Date('2026-01-01T12:00:00.000Z');
    await sql`UPDATE organization_invites SET expires_at = ${at} WHERE id = ${created.id}`.execute(
      h.db,
    );
    const expired = await h.db
      .transaction()
      .execute((trx) => recordExpiredInvites(trx, { organizationId: orgId, email, asOf: at }));
    expect(expired).toBe(1);
    expect((await inviteRow(created.id)).status).toBe('expired');
  });
});
