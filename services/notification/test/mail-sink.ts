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
  let server: SMTPServer | undefined;

  const start = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      closeTimeout: 100,
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((mail) => {
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
    async stop() {
      const running = server;
      server = undefined;
      if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
    },
    start,
  };
}
