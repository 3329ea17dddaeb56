import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, ownerOf, SOURCES, untrustedOrigin } from './index.ts';

describe('ownerOf', () => {
  it("names the service of each type's context", () => {
    expect(ownerOf('identity.member_joined')).toBe('identity-org');
    expect(ownerOf('catalog.event_published')).toBe('catalog');
    expect(ownerOf('booking.availability_changed')).toBe('booking');
    expect(ownerOf('notification.notification_sent')).toBe('notification');
  });

  it('has an owner among the sources for every registered type', () => {
    for (const type of EVENT_TYPES) expect(SOURCES).toContain(ownerOf(type));
  });
});

describe('untrustedOrigin', () => {
  it('trusts an event from its owner under its own routing key', () => {
    for (const type of EVENT_TYPES) {
      expect(untrustedOrigin({ type, source: ownerOf(type) }, type)).toBeUndefined();
    }
  });

  it('refuses an event whose source does not own its type', () => {
    expect(
      untrustedOrigin(
        { type: 'identity.member_joined', source: 'catalog' },
        'identity.member_joined',
      ),
    ).toBe('identity.member_joined is published by identity-org, not catalog');
  });

  it('refuses an event routed under another key than its type', () => {
    // The broker checked the publisher's right to the routing key, not to the type in the body.
    expect(
      untrustedOrigin(
        { type: 'identity.member_joined', source: 'identity-org' },
        'catalog.event_published',
      ),
    ).toBe("routing key catalog.event_published is not the event's type identity.member_joined");
  });
});
