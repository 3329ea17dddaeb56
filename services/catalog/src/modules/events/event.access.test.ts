import { ROLES } from '@happening/contracts';
import { describe, expect, it } from 'vitest';
import { canSee, changeAccess, orgAccess } from './event.access.ts';

describe('canSee', () => {
  it('shows drafts only to members of the org', () => {
    const draft = { status: 'draft', visibility: 'public' } as const;
    expect(canSee(draft, undefined)).toBe(false);
    for (const role of ROLES) expect(canSee(draft, role)).toBe(true);
  });

  it('shows published public events to anyone, members-only events to members', () => {
    for (const status of ['upcoming', 'ongoing', 'completed', 'cancelled'] as const) {
      expect(canSee({ status, visibility: 'public' }, undefined)).toBe(true);
      expect(canSee({ status, visibility: 'members' }, undefined)).toBe(false);
      expect(canSee({ status, visibility: 'members' }, 'user')).toBe(true);
    }
  });
});

describe('changeAccess', () => {
  const published = { status: 'upcoming', visibility: 'public' } as const;

  it('lets organizers and admins change', () => {
    expect(changeAccess(published, 'organizer')).toBe('allowed');
    expect(changeAccess(published, 'orgAdmin')).toBe('allowed');
  });

  it('forbids callers who can see the event but do not manage it', () => {
    expect(changeAccess(published, 'user')).toBe('forbidden');
    expect(changeAccess(published, undefined)).toBe('forbidden');
  });

  it('hides what the caller cannot see', () => {
    expect(changeAccess({ status: 'draft', visibility: 'public' }, undefined)).toBe('not_found');
    expect(changeAccess({ status: 'upcoming', visibility: 'members' }, undefined)).toBe(
      'not_found',
    );
  });
});

describe('orgAccess', () => {
  it('answers not_found to non-members and forbidden to members without the role', () => {
    expect(orgAccess(undefined, ['organizer'])).toBe('not_found');
    expect(orgAccess('user', ['organizer', 'orgAdmin'])).toBe('forbidden');
    expect(orgAccess('orgAdmin', ['organizer', 'orgAdmin'])).toBe('allowed');
  });
});
