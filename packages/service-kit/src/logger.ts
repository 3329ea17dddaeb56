import { type Logger, type LoggerOptions, pino } from 'pino';

/** A pino JSON logger named after the service; authorization headers and cookies are redacted. */
export function createLogger(options: { name: string; level?: string } & LoggerOptions): Logger {
  return pino({
    level: 'info',
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    ...options,
  });
}
