import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';

const env = {
  DATABASE_URL: 'postgres://localhost/happening',
  AMQP_URL: 'amqp://localhost',
  OIDC_ISSUER: 'http://localhost:8180/realms/happening',
  INVITE_LINK_KEY: randomBytes(32).toString('base64'),
};

describe('config', () => {
  it('fills the defaults', () => {
    expect(readConfig(env)).toMatchObject({
      PORT: 3001,
      RUN_MIGRATIONS: true,
      DATABASE_POOL_SIZE: 10,
      ORGANIZATIONS_PER_OWNER: 20,
      INVITES_PER_ADDRESS_PER_DAY: 3,
      INVITES_PER_ORG_PER_DAY: 200,
      INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS: 10,
    });
  });

  it.each([
    'INVITES_PER_ADDRESS_PER_DAY',
    'INVITES_PER_ORG_PER_DAY',
    'INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS',
  ])('reads %s, refusing anything but a positive whole number', (name) => {
    expect(readConfig({ ...env, [name]: '5' })[name as 'INVITES_PER_ORG_PER_DAY']).toBe(5);
    for (const bad of ['0', '-1', '2.5', 'many']) {
      expect(() => readConfig({ ...env, [name]: bad })).toThrow(new RegExp(name));
    }
  });

  it('reads the pool size, refusing fewer than 2 connections', () => {
    expect(readConfig({ ...env, DATABASE_POOL_SIZE: '4' }).DATABASE_POOL_SIZE).toBe(4);
    expect(() => readConfig({ ...env, DATABASE_POOL_SIZE: '1' })).toThrow(/DATABASE_POOL_SIZE/);
  });
});
