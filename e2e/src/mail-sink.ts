import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@happening/testkit';
import { spawnMailDev } from '../../scripts/start/local-servers.ts';

/** One mail as the sink's HTTP API shows it. */
export interface Mail {
  readonly id: string;
  readonly subject: string;
  readonly text: string;
  readonly to: readonly { address: string; name?: string }[];
}

/** maildev on free ports: SMTP for the notification service, an HTTP API to read what arrived. */
export async function startMailSink(logDir: string, repoRoot: string) {
  const [smtpPort, webPort] = [await freePort(), await freePort()];
  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'happening-e2e-mail-'));
  const proc = await spawnMailDev({ smtpPort, webPort, mailDir, logDir, repoRoot });
  return {
    smtpPort,
    apiUrl: `http://127.0.0.1:${webPort}`,
    async stop() {
      await proc.stop();
      fs.rmSync(mailDir, { recursive: true, force: true });
    },
  };
}

/** Reads the mails that reached the sink. */
export function mailbox(apiUrl: string) {
  return {
    async all(): Promise<Mail[]> {
      const res = await fetch(`${apiUrl}/email`);
      if (!res.ok) throw new Error(`mail sink answered ${res.status}`);
      return (await res.json()) as Mail[];
    },
    /** The mails to `address` whose subject contains `subject`. */
    async to(address: string, subject: string): Promise<Mail[]> {
      const mails = await this.all();
      return mails.filter(
        (m) =>
          m.to.some((t) => t.address.toLowerCase() === address.toLowerCase()) &&
          m.subject.includes(subject),
      );
    },
  };
}
