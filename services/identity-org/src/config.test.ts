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
    });
  });

  it('reads the pool size, refusing fewer than 2 connections', () => {
    expect(readConfig({ ...env, DATABASE_POOL_SIZE: '4' }).DATABASE_POOL_SIZE).toBe(4);
    expect(() => readConfig({ ...env, DATABASE_POOL_SIZE: '1' })).toThrow(/DATABASE_POOL_SIZE/);
  });
});
