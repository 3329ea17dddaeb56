import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readConfig, shutdownGraceMs } from './config.ts';

const env = {
  DATABASE_URL: 'postgres://localhost/happening',
  AMQP_URL: 'amqp://localhost',
  OIDC_ISSUER: 'http://localhost:8180/realms/happening',
  NOTIFICATION_SEALING_KEY: randomBytes(32).toString('base64'),
  INVITE_LINK_KEY: randomBytes(32).toString('base64'),
};

describe('config', () => {
  it('fills the defaults', () => {
    const config = readConfig(env);
    expect(config).toMatchObject({
      PORT: 3004,
      SMTP_URL: 'smtp://127.0.0.1:1025',
      RUN_MIGRATIONS: true,
      DELIVERY_RETRY_DELAYS_MS: [5_000, 30_000, 120_000, 600_000],
      WAITING_NOTICE_EXPIRY_MS: 7 * 24 * 3_600_000,
      DATABASE_POOL_SIZE: 10,
    });
    expect(Buffer.from(config.NOTIFICATION_SEALING_KEY, 'base64')).toHaveLength(32);
    expect(Buffer.from(config.INVITE_LINK_KEY, 'base64')).toHaveLength(32);
  });

  it('parses retry delays and refuses inconsistent settings', () => {
    expect(
      readConfig({ ...env, DELIVERY_RETRY_DELAYS_MS: '100,200' }).DELIVERY_RETRY_DELAYS_MS,
    ).toEqual([100, 200]);
    expect(() => readConfig({ ...env, NOTIFICATION_SEALING_KEY: 'c2hvcnQ=' })).toThrow(
      /NOTIFICATION_SEALING_KEY/,
    );
    expect(() => readConfig({ ...env, INVITE_LINK_KEY: 'c2hvcnQ=' })).toThrow(/INVITE_LINK_KEY/);
    expect(() => readConfig({ ...env, INVITE_LINK_KEY: undefined })).toThrow(/INVITE_LINK_KEY/);
    // Several keys during a rotation, each of them a whole key.
    const rotating = `${randomBytes(32).toString('base64')}, ${env.INVITE_LINK_KEY}`;
    expect(readConfig({ ...env, INVITE_LINK_KEY: rotating }).INVITE_LINK_KEY).toBe(rotating);
    expect(() =>
      readConfig({ ...env, INVITE_LINK_KEY: `${env.INVITE_LINK_KEY},c2hvcnQ=` }),
    ).toThrow(/INVITE_LINK_KEY/);
    expect(() => readConfig({ ...env, SMS_API_URL: 'https://sms.example/send' })).toThrow(
      /SMS_API_KEY/,
    );
    expect(() => readConfig({ ...env, PENDING_STALE_AFTER_MS: '1000' })).toThrow(
      /PENDING_STALE_AFTER_MS/,
    );
    expect(
      readConfig({ ...env, WAITING_NOTICE_EXPIRY_MS: '86400000' }).WAITING_NOTICE_EXPIRY_MS,
    ).toBe(86_400_000);
    expect(() => readConfig({ ...env, WAITING_NOTICE_EXPIRY_MS: '0' })).toThrow(
      /WAITING_NOTICE_EXPIRY_MS/,
    );
    expect(readConfig({ ...env, DATABASE_POOL_SIZE: '4' }).DATABASE_POOL_SIZE).toBe(4);
    expect(() => readConfig({ ...env, DATABASE_POOL_SIZE: '1' })).toThrow(/DATABASE_POOL_SIZE/);
  });

  it('gives the shutdown as long as the slowest send, then the 10 s to close', () => {
    // Thirteen SMTP waits of 10 s (connect, greeting, EHLO, STARTTLS, TLS, EHLO, AUTH LOGIN x3,
    // MAIL, RCPT, DATA, the message's end), then 10 s to record, ack and close.
    expect(shutdownGraceMs(readConfig(env))).toBe(140_000);
    expect(shutdownGraceMs(readConfig({ ...env, PROVIDER_TIMEOUT_MS: '2000' }))).toBe(36_000);
    // Never less than the drain plus the close every service gets.
    expect(
      shutdownGraceMs(
        readConfig({ ...env, PROVIDER_TIMEOUT_MS: '1000', SHUTDOWN_DRAIN_MS: '20000' }),
      ),
    ).toBe(30_000);
  });
});
