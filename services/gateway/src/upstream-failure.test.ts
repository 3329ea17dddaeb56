import { describe, expect, it } from 'vitest';
import { upstreamFailure } from './upstream-failure.ts';

const withCode = (code: string, cause?: unknown) =>
  Object.assign(new Error(code, cause === undefined ? {} : { cause }), { code });

describe('upstreamFailure', () => {
  it('answers 503 UPSTREAM_UNAVAILABLE when the connection was refused (nested cause)', () => {
    const error = withCode('FST_REPLY_FROM_INTERNAL_SERVER_ERROR', withCode('ECONNREFUSED'));
    expect(upstreamFailure('booking', error)).toMatchObject({
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      extra: { upstream: 'booking' },
    });
  });

  it('answers 503 when the name does not resolve or the connect times out', () => {
    expect(upstreamFailure('catalog', withCode('ENOTFOUND')).status).toBe(503);
    expect(upstreamFailure('catalog', withCode('UND_ERR_CONNECT_TIMEOUT')).status).toBe(503);
  });

  it('answers 504 UPSTREAM_TIMEOUT when the answer is too slow', () => {
    const error = withCode('FST_REPLY_FROM_GATEWAY_TIMEOUT', withCode('UND_ERR_HEADERS_TIMEOUT'));
    expect(upstreamFailure('catalog', error)).toMatchObject({
      status: 504,
      code: 'UPSTREAM_TIMEOUT',
    });
  });

  it('answers 502 BAD_GATEWAY for anything else, such as a reset mid-answer', () => {
    expect(upstreamFailure('notification', withCode('ECONNRESET'))).toMatchObject({
      status: 502,
      code: 'BAD_GATEWAY',
    });
    expect(upstreamFailure('notification', 'not even an error').status).toBe(502);
  });
});
