import { describe, expect, it } from 'vitest';
import { connectionAclRules } from './redis-acl.ts';

const info = (version: string) =>
  `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n`;

describe('connectionAclRules', () => {
  it.each([
    ['7.0.15', []],
    ['6.2.14', []],
    ['7.2.4', ['+client|setinfo']],
    ['7.4.1', ['+client|setinfo']],
    ['8.0.0', ['+client|setinfo']],
  ])('gives Redis %s the rules %j', (version, rules) => {
    expect(connectionAclRules(info(version))).toEqual(rules);
  });

  it('refuses an answer without a version', () => {
    expect(() => connectionAclRules('# Server\r\n')).toThrow(/redis_version/);
  });
});
