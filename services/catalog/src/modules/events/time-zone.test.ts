import { describe, expect, it } from 'vitest';
import { isIanaTimeZone, sameTimeZone, timeZoneName } from './time-zone.ts';

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

describe('timeZoneName', () => {
  it('keeps a name as sent', () => {
    for (const zone of [
      'Europe/Paris',
      'UTC',
      'Asia/Kolkata',
      'Europe/Kyiv',
      'US/Pacific',
      'EST5EDT',
    ]) {
      expect(timeZoneName(zone)).toBe(zone);
    }
  });

  it('spells a name in the wrong case as the runtime does', () => {
    expect(timeZoneName('Europe/PARIS')).toBe('Europe/Paris');
    expect(timeZoneName('europe/paris')).toBe('Europe/Paris');
    expect(timeZoneName('utc')).toBe('UTC');
  });

  it('has no name for unknown zones and offsets', () => {
    expect(timeZoneName('Mars/Olympus_Mons')).toBeUndefined();
    expect(timeZoneName('+02:00')).toBeUndefined();
  });
});

describe('sameTimeZone', () => {
  it('holds for two names of one zone, whichever the runtime calls canonical', () => {
    expect(sameTimeZone('Asia/Kolkata', 'Asia/Calcutta')).toBe(true);
    expect(sameTimeZone('Europe/Kyiv', 'Europe/Kiev')).toBe(true);
    expect(sameTimeZone('Europe/Paris', 'europe/paris')).toBe(true);
  });

  it('fails for different zones and unknown names', () => {
    expect(sameTimeZone('Europe/Paris', 'Europe/Berlin')).toBe(false);
    expect(sameTimeZone('Mars/Olympus_Mons', 'Mars/Olympus_Mons')).toBe(false);
  });
});
