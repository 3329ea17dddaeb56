import { describe, expect, it } from 'vitest';
import { addressBucket } from './address-bucket.ts';

describe('addressBucket', () => {
  it('keeps an IPv4 address, also written IPv4-mapped', () => {
    expect(addressBucket('192.0.2.7')).toBe('192.0.2.7');
    expect(addressBucket('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressBucket('::FFFF:192.0.2.7')).toBe('192.0.2.7');
  });

  it('counts an IPv6 address as its /64, however it is written', () => {
    const bucket = '2001:db8:aa:1::/64';
    for (const ip of [
      '2001:db8:aa:1::1',
      '2001:db8:aa:1:ffff:ffff:ffff:ffff',
      '2001:0DB8:00AA:0001:0:0:0:2',
      '2001:db8:aa:1:1234:5678::9',
      '2001:db8:aa:1::1.2.3.4',
    ])
      expect(addressBucket(ip), ip).toBe(bucket);
    expect(addressBucket('2001:db8:aa:2::1')).not.toBe(bucket);
  });

  it('expands the zeros a leading or trailing :: stands for', () => {
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
