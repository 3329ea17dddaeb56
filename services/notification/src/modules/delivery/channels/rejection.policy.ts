/**
 * 4xx answers that say nothing final about the message: a timeout (408), a conflicting request
 * with the same idempotency key still in progress (409), too early (425), too many requests
 * (429), and our own credentials refused (401, 403: a key to rotate, after which the retries
 * deliver; failing every message at once would lose them all).
 */
const TRANSIENT_CLIENT_ERRORS = new Set([401, 403, 408, 409, 425, 429]);

/** Whether a provider API's HTTP status refuses the message for good (400 invalid number, 404 no device). */
export function httpRejectionIsPermanent(status: number): boolean {
  return status >= 400 && status < 500 && !TRANSIENT_CLIENT_ERRORS.has(status);
}

/** What nodemailer's errors carry of the SMTP exchange (`response`: the server's reply as sent). */
export interface SmtpFailure {
  code?: unknown;
  command?: unknown;
  responseCode?: unknown;
  response?: unknown;
}

/** Subject 7 of an enhanced status code (RFC 3463 section 3.8): security or policy status. */
const SECURITY_OR_POLICY = 7;

/**
 * The subject of the enhanced status code (RFC 3463, `class.subject.detail`) that opens the
 * reply's first line, as in "554 5.7.1 <a@b>: Relay access denied"; undefined without one.
 */
function enhancedStatusSubject(response: unknown): number | undefined {
  if (typeof response !== 'string') return undefined;
  const subject = /^\d{3}[ -][245]\.(\d{1,3})\.\d{1,3}(?![\d.])/.exec(response)?.[1];
  return subject === undefined ? undefined : Number(subject);
}

/**
 * Whether an SMTP send failed with a permanent rejection of this message: a 5xx reply to its
 * recipient (550 5.1.1 unknown mailbox) or to its content (DATA, 552 too large, 554 refused).
 * 4xx replies are transient by definition; a 5xx to the greeting, the login or MAIL FROM concerns
 * our server, credentials or sender, and every other message too, so it is retried. So is a 5xx
 * whose enhanced status code is X.7.X (security or policy), wherever it comes: refusals of our
 * server, relay or sender reach RCPT TO too (Postfix delays client, HELO and sender refusals to
 * it, `smtpd_delay_reject`; "554 5.7.1 Relay access denied" for a wrong relay or a missing login
 * in SMTP_URL), and SPF, DMARC or blocklist refusals of our sender domain come after DATA as
 * 550/554 5.7.x. They hit every message: failing each for good would lose them all without an
 * alert, where retries end in a dead letter that alerts. A policy refusal of one recipient alone
 * costs its few retries and that dead letter. A 5xx without an enhanced status code stays final.
 */
export function smtpRejectionIsPermanent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, command, responseCode, response } = error as SmtpFailure;
  return (
    (code === 'EENVELOPE' || code === 'EMESSAGE') &&
    (command === 'RCPT TO' || command === 'DATA') &&
    typeof responseCode === 'number' &&
    responseCode >= 500 &&
    responseCode < 600 &&
    enhancedStatusSubject(response) !== SECURITY_OR_POLICY
  );
}
