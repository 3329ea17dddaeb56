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
  const rejected = (code: string, command: string, responseCode?: number, text = 'refused') => ({
    code,
    command,
    responseCode,
    response: responseCode === undefined ? undefined : `${responseCode} ${text}`,
  });

  it('takes a 5xx to the recipient or the message as final', () => {
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'RCPT TO', 550))).toBe(true);
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'DATA', 554))).toBe(true);
    expect(smtpRejectionIsPermanent(rejected('EMESSAGE', 'DATA', 552))).toBe(true);
  });

  it('takes a 5xx with an enhanced status code other than X.7.X as final', () => {
    const unknown = rejected('EENVELOPE', 'RCPT TO', 550, '5.1.1 <cy@example.test>: User unknown');
    expect(smtpRejectionIsPermanent(unknown)).toBe(true);
    const tooBig = rejected('EMESSAGE', 'DATA', 552, '5.3.4 Message size exceeds fixed limit');
    expect(smtpRejectionIsPermanent(tooBig)).toBe(true);
    const full = rejected('EENVELOPE', 'RCPT TO', 552, '5.2.2 Mailbox full');
    expect(smtpRejectionIsPermanent(full)).toBe(true);
    // Only a status code opening the reply counts, not one quoted later in its text.
    const quoted = rejected('EENVELOPE', 'RCPT TO', 550, 'User unknown (not 5.7.1)');
    expect(smtpRejectionIsPermanent(quoted)).toBe(true);
  });

  it('retries a 5xx about security or policy (X.7.X): it concerns our server, relay or sender', () => {
    const relay = rejected('EENVELOPE', 'RCPT TO', 554, '5.7.1 <a@b.test>: Relay access denied');
    expect(smtpRejectionIsPermanent(relay)).toBe(false);
    // Postfix's delayed refusal of our client, HELO name or sender, given at RCPT TO.
    const client = rejected(
      'EENVELOPE',
      'RCPT TO',
      554,
      '5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org',
    );
    expect(smtpRejectionIsPermanent(client)).toBe(false);
    const spf = rejected('EMESSAGE', 'DATA', 550, '5.7.23 SPF validation failed');
    expect(smtpRejectionIsPermanent(spf)).toBe(false);
    // A multi-line reply, as nodemailer joins it.
    const dmarc = {
      code: 'EMESSAGE',
      command: 'DATA',
      responseCode: 550,
      response:
        '550-5.7.26 Unauthenticated email from happening.local is not accepted due to\n' +
        "550 5.7.26 domain's DMARC policy",
    };
    expect(smtpRejectionIsPermanent(dmarc)).toBe(false);
    expect(smtpRejectionIsPermanent(rejected('EENVELOPE', 'DATA', 554, '5.7.0 Policy'))).toBe(
      false,
    );
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
