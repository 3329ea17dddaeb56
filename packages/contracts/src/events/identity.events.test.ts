import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildEvent,
  createSealedBox,
  currentVersion,
  EVENT_TYPES,
  eventRegistry,
  openInviteLink,
  parseEvent,
  sealInviteLink,
} from '../index.ts';

const inviteId = randomUUID();
const organizationId = randomUUID();
const invite = {
  inviteId,
  organizationId,
  organizationName: 'Acme',
  email: 'ada@example.test',
  role: 'organizer' as const,
  invitedBy: 'u-1',
  expiresAt: '2027-01-01T00:00:00.000Z',
};
const meta = {
  source: 'identity-org' as const,
  aggregate: { type: 'organization', id: organizationId, version: 3 },
  correlationId: 'c',
};
const url = 'https://app.test/invites/accept?token=secret';

describe('versions', () => {
  it('are written at each type’s newest', () => {
    for (const type of EVENT_TYPES) {
      const newest = Math.max(...Object.keys(eventRegistry[type]).map(Number));
      expect(currentVersion(type)).toBe(newest);
    }
  });
});

describe('user_registered', () => {
  const user = { userId: 'u-1', email: 'ada@example.test', name: 'Ada' };
  const userMeta = {
    source: 'identity-org' as const,
    aggregate: { type: 'user', id: 'u-1', version: 2 },
    correlationId: 'c',
  };

  it('carries whether the email is verified, still as version 1', () => {
    const event = buildEvent(
      'identity.user_registered',
      { ...user, emailVerified: true },
      userMeta,
    );
    expect(event.version).toBe(1);
    expect(parseEvent(JSON.parse(JSON.stringify(event))).data).toMatchObject({
      emailVerified: true,
    });
    expect(() =>
      buildEvent('identity.user_registered', { ...user, emailVerified: 'yes' as never }, userMeta),
    ).toThrow(/emailVerified/);
  });

  it('still parses a message published before it said so', () => {
    const current = buildEvent('identity.user_registered', user, userMeta);
    const parsed = parseEvent(JSON.parse(JSON.stringify(current)));
    expect(parsed.data).toEqual(user);
  });
});

describe('member_invited', () => {
  const box = createSealedBox(randomBytes(32));

  it('is written as version 2, with the accept link sealed for its invite only', () => {
    const sealed = sealInviteLink(box, invite, url);
    const event = buildEvent(
      'identity.member_invited',
      { ...invite, sealedAcceptUrl: sealed },
      meta,
    );
    expect(event.version).toBe(2);
    expect(JSON.stringify(event)).not.toContain('secret');
    expect(openInviteLink(box, event.data)).toBe(url);
    // Bound to every fact of the invite: replayed for another invite, address or role, it does not open.
    for (const other of [
      { inviteId: randomUUID() },
      { email: 'mallory@example.test' },
      { role: 'orgAdmin' as const },
      { organizationName: 'Evil' },
    ]) {
      expect(() => openInviteLink(box, { ...event.data, ...other })).toThrow();
    }
    expect(() =>
      buildEvent('identity.member_invited', { ...invite, acceptUrl: url } as never, meta),
    ).toThrow(/sealedAcceptUrl/);
  });

  it('says when the invite is not mailed, still as version 2; absent, it is', () => {
    const sealedAcceptUrl = sealInviteLink(box, invite, url);
    const unmailed = buildEvent(
      'identity.member_invited',
      { ...invite, sealedAcceptUrl, mailed: false },
      meta,
    );
    expect(unmailed.version).toBe(2);
    expect(parseEvent(JSON.parse(JSON.stringify(unmailed))).data).toMatchObject({ mailed: false });
    // Bound to the link when false: sealed without it, the link does not open with it, and
    // sealed with it, not without it (a consumer that strips the field cannot mail it).
    expect(() => openInviteLink(box, unmailed.data)).toThrow();
    const sealedUnmailed = sealInviteLink(box, { ...invite, mailed: false }, url);
    expect(openInviteLink(box, { ...invite, mailed: false, sealedAcceptUrl: sealedUnmailed })).toBe(
      url,
    );
    expect(() => openInviteLink(box, { ...invite, sealedAcceptUrl: sealedUnmailed })).toThrow();
    // Mailed, said or not, seals as before.
    expect(openInviteLink(box, { ...invite, mailed: true, sealedAcceptUrl })).toBe(url);
    const earlier = buildEvent('identity.member_invited', { ...invite, sealedAcceptUrl }, meta);
    expect(parseEvent(JSON.parse(JSON.stringify(earlier))).data).not.toHaveProperty('mailed');
    expect(() =>
      buildEvent(
        'identity.member_invited',
        { ...invite, sealedAcceptUrl, mailed: 'no' as never },
        meta,
      ),
    ).toThrow(/mailed/);
  });

  it('is still parsed in version 1, with the link in clear', () => {
    const current = buildEvent(
      'identity.member_invited',
      { ...invite, sealedAcceptUrl: sealInviteLink(box, invite, url) },
      meta,
    );
    const { sealedAcceptUrl: _sealed, ...data } = current.data;
    const parsed = parseEvent({ ...current, version: 1, data: { ...data, acceptUrl: url } });
    expect(parsed.data).toMatchObject({ acceptUrl: url });
    expect(() => parseEvent({ ...current, version: 1 })).toThrow(/acceptUrl/);
  });
});
