import nodemailer from 'nodemailer';
import { type ChannelAdapter, PermanentRejection } from './channel.adapter.ts';
import { smtpRejectionIsPermanent } from './rejection.policy.ts';

export interface EmailChannelOptions {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
}

/**
 * Email over SMTP (nodemailer), as text/plain so no event data is ever interpreted as HTML. A 5xx
 * reply refusing the recipient or the message is a permanent rejection, not retried, unless it is
 * about security or policy (X.7.X: our relay or sender refused), see `smtpRejectionIsPermanent`.
 */
export function emailChannel(options: EmailChannelOptions): ChannelAdapter {
  const domain = /@([^>\s]+)/.exec(options.from)?.[1] ?? 'happening.local';
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  } as nodemailer.TransportOptions);
  return {
    async send(message) {
      const info = await transport
        .sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.body,
          // Lets the mail provider (and a reader) tie the mail to its notification.
          headers: { 'X-Happening-Notification-Id': message.notificationId },
          // The same on every attempt: a mail sent again after an answer that was lost (a timeout
          // once the server had accepted it) is a duplicate mail systems can recognise.
          messageId: `<${message.notificationId}@${domain}>`,
        })
        .catch((error: unknown) => {
          if (!smtpRejectionIsPermanent(error)) throw error;
          throw new PermanentRejection((error as Error).message, { cause: error });
        });
      return { providerMessageId: info.messageId ?? null };
    },
    close() {
      transport.close();
    },
  };
}
