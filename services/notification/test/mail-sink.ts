import { freePort } from '@happening/testkit';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A mail as the sink received it over SMTP. */
export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  headers: ParsedMail['headers'];
}

/** A real SMTP server on a local port that keeps every mail; `stop()`/`start()` keep the port. */
export interface MailSink {
  readonly port: number;
  readonly url: string;
  readonly mails: ReceivedMail[];
  mailsTo(address: string): ReceivedMail[];
  /**
   * Refuses `address` at RCPT TO with the SMTP reply `code` (e.g. 550, 451) until `accept`; `text`
   * follows the code in the reply (e.g. "5.7.1 <a@b>: Relay access denied"), "refused <address>" by default.
   */
  reject(address: string, code: number, text?: string): void;
  accept(address: string): void;
  /** Refuses every mail whose subject contains `part` after its DATA with `code` until `acceptSubject`. */
  refuseSubject(part: string, code: number): void;
  acceptSubject(part: string): void;
  /** How often a sender named `address` at RCPT TO, refused or not. */
  recipientAttempts(address: string): number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

function addressOf(mail: ParsedMail): string {
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
  return to?.value[0]?.address ?? '';
}

/** Starts an in-process SMTP sink (smtp-server + mailparser) on a free port. */
export async function startMailSink(): Promise<MailSink> {
  const port = await freePort();
  const mails: ReceivedMail[] = [];
  const refusals = new Map<string, { code: number; text?: string }>();
  const attempts = new Map<string, number>();
  const refusedSubjects = new Map<string, number>();
  let server: SMTPServer | undefined;

  const start = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      closeTimeout: 100,
      logger: false,
      onRcptTo(address, _session, callback) {
        const to = address.address.toLowerCase();
        attempts.set(to, (attempts.get(to) ?? 0) + 1);
        const refusal = refusals.get(to);
        if (refusal === undefined) return callback();
        callback(
          Object.assign(new Error(refusal.text ?? `refused ${to}`), { responseCode: refusal.code }),
        );
      },
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((mail) => {
            const subject = mail.subject ?? '';
            for (const [part, code] of refusedSubjects) {
              if (!subject.includes(part)) continue;
              return callback(
                Object.assign(new Error(`refused "${subject}"`), { responseCode: code }),
              );
            }
            mails.push({
              to: addressOf(mail),
              subject: mail.subject ?? '',
              text: (mail.text ?? '').trim(),
              headers: mail.headers,
            });
            callback();
          })
          .catch(callback);
      },
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => resolve());
    });
  };

  await start();
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    mailsTo: (address) => mails.filter((m) => m.to.toLowerCase() === address.toLowerCase()),
    reject: (address, code, text) => refusals.set(address.toLowerCase(), { code, text }),
    accept: (address) => refusals.delete(address.toLowerCase()),
    refuseSubject: (part, code) => refusedSubjects.set(part, code),
    acceptSubject: (part) => refusedSubjects.delete(part),
    recipientAttempts: (address) => attempts.get(address.toLowerCase()) ?? 0,
    async stop() {
      const running = server;
      server = undefined;
      if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
    },
    start,
  };
}
