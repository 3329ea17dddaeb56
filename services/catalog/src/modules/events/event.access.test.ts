import { ROLES } from '@happening/contracts';
import { describe, expect, it } from 'vitest';
import { canSee, changeAccess, orgAccess } from './event.access.ts';

describe('canSee', () => {
  it('shows events never published (drafts, drafts cancelled) only to members of the org', () => {
    const unpublished = { publishedAt: null, visibility: 'public' } as const;
    expect(canSee(unpublished, undefined)).toBe(false);
    for (const role of ROLES) expect(canSee(unpublished, role)).toBe(true);
  });

  it('shows published public events to anyone, members-only events to members', () => {
    const publishedAt = new Date();
    expect(canSee({ publishedAt, visibility: 'public' }, undefined)).toBe(true);
    expect(canSee({ publishedAt, visibility: 'members' }, undefined)).toBe(false);
    expect(canSee({ publishedAt, visibility: 'members' }, 'user')).toBe(true);
  });
});

describe('changeAccess', () => {
  const published = { publishedAt: new Date(), visibility: 'public' } as const;

  it('lets organizers and admins change', () => {
    expect(changeAccess(published, 'organizer')).toBe('allowed');
    expect(changeAccess(published, 'orgAdmin')).toBe('allowed');
  });

  it('forbids callers who can see the event but do not manage it', () => {
    expect(changeAccess(published, 'user')).toBe('forbidden');
    expect(changeAccess(published, undefined)).toBe('forbidden');
  });

  it('hides what the caller cannot see', () => {
    expect(changeAccess({ publishedAt: null, visibility: 'public' }, undefined)).toBe('not_found');
    expect(changeAccess({ ...published, visibility: 'members' }, undefined)).toBe('not_found');
  });
});

describe('orgAccess', () => {
  it('answers not_found to non-members and forbidden to members without the role', () => {
    expect(orgAccess(undefined, ['organizer'])).toBe('not_found');
    expect(orgAccess('user', ['organizer', 'orgAdmin'])).toBe('forbidden');
    expect(orgAccess('orgAdmin', ['organizer', 'orgAdmin'])).toBe('allowed');
  });
});
