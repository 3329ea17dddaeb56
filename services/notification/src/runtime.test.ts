import { EVENT_SUBSCRIPTIONS } from '@happening/messaging';
import { describe, expect, it } from 'vitest';
import { CONSUMED_EVENTS } from './modules/inbound/domain-event.handler.ts';

describe('notification.events bindings', () => {
  it('are exactly the events the domain-event handler consumes', () => {
    expect([...EVENT_SUBSCRIPTIONS.notification].sort()).toEqual([...CONSUMED_EVENTS].sort());
  });
});
