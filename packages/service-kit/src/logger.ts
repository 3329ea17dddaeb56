import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/** What replaces a redacted value in a log line (pino's own `redact` writes the same). */
const REDACTED = '[Redacted]';

/**
 * Query parameters that carry a credential (a token sent in the URL, an OAuth code or secret):
 * their values are masked in logged URLs. Compared without regard to case.
 */
const SECRET_QUERY_PARAMETERS = new Set([
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'code',
  'client_secret',
  'password',
]);

function parameterName(pair: string): string {
  const at = pair.indexOf('=');
  const name = at === -1 ? pair : pair.slice(0, at);
  try {
    return decodeURIComponent(name.replaceAll('+', ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/**
 * `url` with the values of credential-bearing query parameters (`SECRET_QUERY_PARAMETERS`)
 * masked; the path and every other parameter are kept as sent, so that logs still show what was
 * asked for.
 */
export function maskUrlSecrets(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) =>
      SECRET_QUERY_PARAMETERS.has(parameterName(pair))
        ? `${pair.split('=', 1)[0]}=${REDACTED}`
        : pair,
    )
    .join('&');
  return `${url.slice(0, at)}?${query}`;
}

/** The request fields fastify's `incoming request` line carries, with a request's or a raw one's. */
interface LoggedRequest {
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  host?: string;
  ip?: string;
  socket?: { remoteAddress?: string; remotePort?: number } | null;
}

/**
 * fastify's own `req` serializer (method, URL, host, client address), with credentials in the
 * query string masked: a token sent as `?access_token=…` is refused, but its request is logged.
 */
function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? maskUrlSecrets(req.url) : req.url,
    version: req.headers?.['accept-version'],
    host: req.host ?? req.headers?.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * A pino JSON logger named after the service, writing to stdout (or `destination`); authorization
 * headers and cookies are redacted, and so are credentials in a logged request's query string.
 */
export function createLogger(
  options: { name: string; level?: string } & LoggerOptions,
  destination?: DestinationStream,
): Logger {
  const loggerOptions: LoggerOptions = {
    level: 'info',
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    ...options,
    serializers: { req: serializeRequest, ...options.serializers },
  };
  return destination ? pino(loggerOptions, destination) : pino(loggerOptions);
}
