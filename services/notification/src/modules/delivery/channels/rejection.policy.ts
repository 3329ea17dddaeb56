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

/** What nodemailer's errors carry of the SMTP exchange. */
export interface SmtpFailure {
  code?: unknown;
  command?: unknown;
  responseCode?: unknown;
}

/**
 * Whether an SMTP send failed with a permanent rejection of this message: a 5xx reply to its
 * recipient (550 unknown mailbox) or to its content (DATA, 552 too large, 554 refused). 4xx
 * replies are transient by definition; a 5xx to the greeting, the login or MAIL FROM concerns
 * our server, credentials or sender, and every other message too, so it is retried.
 */
export function smtpRejectionIsPermanent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, command, responseCode } = error as SmtpFailure;
  return (
    (code === 'EENVELOPE' || code === 'EMESSAGE') &&
    (command === 'RCPT TO' || command === 'DATA') &&
    typeof responseCode === 'number' &&
    responseCode >= 500 &&
    responseCode < 600
  );
}
