import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, isIanaTimeZone } from './time-zone.ts';

const resolved = (zone: string) =>
  new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;

describe('isIanaTimeZone', () => {
  it.each([
    'Europe/Paris',
    'America/Argentina/Buenos_Aires',
    'Asia/Kolkata',
    'UTC',
    'Etc/GMT+5',
    'EST5EDT',
    'GMT+0',
    'Europe/PARIS',
  ])('accepts %s', (zone) => expect(isIanaTimeZone(zone)).toBe(true));

  it.each([
    'Mars/Olympus_Mons',
    'Paris',
    '+02:00',
    '-0530',
    '',
    'europe/paris ',
    'Europe/Paris; DROP',
  ])('rejects %j', (zone) => expect(isIanaTimeZone(zone)).toBe(false));
});

describe('canonicalTimeZone', () => {
  it('keeps a canonical name as it is', () => {
    expect(canonicalTimeZone('Europe/Paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
  });

  it('spells a name in any case as the runtime does', () => {
    expect(canonicalTimeZone('Europe/PARIS')).toBe('Europe/Paris');
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('utc')).toBe('UTC');
  });

  it('resolves aliases as Intl does', () => {
    for (const zone of ['EST5EDT', 'GMT+0', 'US/Pacific']) {
      expect(canonicalTimeZone(zone)).toBe(resolved(zone));
    }
  });

  it('has no canonical form for unknown names and offsets', () => {
    expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeUndefined();
    expect(canonicalTimeZone('+02:00')).toBeUndefined();
  });
});
