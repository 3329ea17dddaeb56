import { Writable } from 'node:stream';
import { pino } from 'pino';

/** A pino logger writing parsed JSON lines into `lines`, for asserting what gets logged. */
export function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ name: 'test-service', level: 'debug' }, stream), lines };
}
