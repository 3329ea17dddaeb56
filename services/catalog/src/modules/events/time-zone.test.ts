import { describe, expect, it } from 'vitest';
import { isIanaTimeZone } from './time-zone.ts';

describe('isIanaTimeZone', () => {
  it.each([
    'Europe/Paris',
    'America/Argentina/Buenos_Aires',
    'Asia/Kolkata',
    'UTC',
    'Etc/GMT+5',
  ])('accepts %s', (zone) => expect(isIanaTimeZone(zone)).toBe(true));

  it.each([
    'Mars/Olympus_Mons',
    'Paris',
    '+02:00',
    '',
    'europe/paris ',
    'Europe/Paris; DROP',
  ])('rejects %j', (zone) => expect(isIanaTimeZone(zone)).toBe(false));
});
