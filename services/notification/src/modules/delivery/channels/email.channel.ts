import nodemailer from 'nodemailer';
import type { ChannelAdapter } from './channel.adapter.ts';

export interface EmailChannelOptions {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
}

/** Email over SMTP (nodemailer), as text/plain so no event data is ever interpreted as HTML. */
export function emailChannel(options: EmailChannelOptions): ChannelAdapter {
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  } as nodemailer.TransportOptions);
  return {
    async send(message) {
      const info = await transport.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.body,
        // Lets the mail provider (and a reader) tie the mail to its notification.
        headers: { 'X-Happening-Notification-Id': message.notificationId },
      });
      return { providerMessageId: info.messageId ?? null };
    },
    close() {
      transport.close();
    },
  };
}
