import type { Config } from '../../../config.ts';
import type { NotificationChannel } from '../../../domain.ts';
import type { ChannelAdapter } from './channel.adapter.ts';
import { emailChannel } from './email.channel.ts';
import { pushChannel, smsChannel } from './http-provider.channel.ts';

export type ChannelConfig = Pick<
  Config,
  | 'SMTP_URL'
  | 'MAIL_FROM'
  | 'SMS_API_URL'
  | 'SMS_API_KEY'
  | 'PUSH_API_URL'
  | 'PUSH_API_KEY'
  | 'PROVIDER_TIMEOUT_MS'
>;

/** The adapters of every channel whose provider is configured (email always is). */
export function channelAdapters(config: ChannelConfig): Map<NotificationChannel, ChannelAdapter> {
  const timeoutMs = config.PROVIDER_TIMEOUT_MS;
  const adapters = new Map<NotificationChannel, ChannelAdapter>([
    ['email', emailChannel({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, timeoutMs })],
  ]);
  if (config.SMS_API_URL && config.SMS_API_KEY) {
    adapters.set(
      'sms',
      smsChannel({ url: config.SMS_API_URL, apiKey: config.SMS_API_KEY, timeoutMs }),
    );
  }
  if (config.PUSH_API_URL && config.PUSH_API_KEY) {
    adapters.set(
      'push',
      pushChannel({ url: config.PUSH_API_URL, apiKey: config.PUSH_API_KEY, timeoutMs }),
    );
  }
  return adapters;
}
