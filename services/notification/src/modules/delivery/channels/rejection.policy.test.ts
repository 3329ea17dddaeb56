import { describe, expect, it } from 'vitest';
import { httpRejectionIsPermanent, smtpRejectionIsPermanent } from './rejection.policy.ts';

describe('httpRejectionIsPermanent', () => {
  it('takes a 4xx about the message as final', () => {
    for (const status of [400, 404, 410, 413, 422])
      expect(httpRejectionIsPermanent(status)).toBe(true);
  });

  it('retries timeouts, rate limits, conflicts, refused credentials and every 5xx', () => {
    for (const status of [401, 403, 408, 409, 425, 429, 500, 502, 503, 504])
      expect(httpRejectionIsPermanent(status)).toBe(false);
  });
});

describe('smtpRejectionIsPermanent', () => {
  const rejected = (code: string, command: string, responseCode?: number) => ({
    code,
    command,
    responseCode,
  });

  it('takes a 5xx to the recipient or the message as final', () => {
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'RCPT TO', 550))).toBe(true);
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'DATA', 554))).toBe(true);
    expect(smtpRejectionIsPermanent(rejected('EMESSAGE', 'DATA', 552))).toBe(true);
  });

  it('retries 4xx replies, connection failures and what concerns our server or sender', () => {
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'RCPT TO', 450))).toBe(false);
    expect(smtpRejectionIsPermanent(rejected('EMESSAGE', 'DATA', 451))).toBe(false);
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'MAIL FROM', 553))).toBe(false);
    expect(smtpRejectionIsPermanent(rejected('EAUTH', 'AUTH PLAIN', 535))).toBe(false);
    expect(smtpRejectionIsPermanent(rejected('ECONNECTION', 'CONN'))).toBe(false);
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'API'))).toBe(false);
    expect(smtpRejectionIsPermanent(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(smtpRejectionIsPermanent(undefined)).toBe(false);
  });
});
