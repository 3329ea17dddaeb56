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
/** X.7.20 to X.7.29 (RFC 7372 and its registry): the sender's domain failed authentication. */
const SENDER_AUTHENTICATION = { from: 20, to: 29 };

/**
 * The enhanced status code (RFC 3463, `class.subject.detail`) that opens the reply's first line,
 * as in "554 5.7.1 <a@b>: Relay access denied"; undefined without one.
 */
function enhancedStatus(response: unknown): { subject: number; detail: number } | undefined {
  if (typeof response !== 'string') return undefined;
  const match = /^\d{3}[ -][245]\.(\d{1,3})\.(\d{1,3})(?![\d.])/.exec(response);
  return match ? { subject: Number(match[1]), detail: Number(match[2]) } : undefined;
}

/**
 * Whether a security or policy refusal (X.7.X) concerns our server, relay or sender, and so every
 * message: any at RCPT TO (Postfix delays client, HELO and sender refusals to it,
 * `smtpd_delay_reject`; "554 5.7.1 Relay access denied" for a wrong relay or a missing login in
 * SMTP_URL), and after DATA those saying our domain failed SPF, DKIM or DMARC (X.7.20–X.7.29).
 * Other X.7.X after DATA refuse this message's content (spam, a security scan).
 */
function refusesOurSending(command: unknown, status: { subject: number; detail: number }): boolean {
  if (status.subject !== SECURITY_OR_POLICY) return false;
  if (command === 'RCPT TO') return true;
  return status.detail >= SENDER_AUTHENTICATION.from && status.detail <= SENDER_AUTHENTICATION.to;
}

/**
 * Whether an SMTP send failed with a permanent rejection of this message: a 5xx reply to its
 * recipient (550 5.1.1 unknown mailbox) or to its content (DATA, 552 too large, 554 refused).
 * 4xx replies are transient by definition; a 5xx to the greeting, the login or MAIL FROM concerns
 * our server, credentials or sender, and every other message too, so it is retried. So is a 5xx
 * at RCPT TO or DATA that says the same (`refusesOurSending`): failing each message for good
 * would lose them all without an alert, where retries end in a dead letter that alerts. A policy
 * refusal of one recipient alone at RCPT TO costs its few retries and that dead letter. A 5xx
 * without an enhanced status code stays final.
 */
export function smtpRejectionIsPermanent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, command, responseCode, response } = error as SmtpFailure;
  const status = enhancedStatus(response);
  return (
    (code === 'EENVELOPE' || code === 'EMESSAGE') &&
    (command === 'RCPT TO' || command === 'DATA') &&
    typeof responseCode === 'number' &&
    responseCode >= 500 &&
    responseCode < 600 &&
    !(status && refusesOurSending(command, status))
  );
}
