import { describe, expect, it } from 'vitest';
import { parsePgbench } from '../bench/postgres.references.ts';

const summary = (processed: number, tail: string) => `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: /tmp/booking-bench/raw.sql
scaling factor: 1
query mode: prepared
number of clients: 256
number of threads: 2
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: ${processed}
${tail}`;

describe('parsePgbench', () => {
  it('reads tps, mean latency and transaction counts', () => {
    const stdout = summary(
      2048,
      `number of failed transactions: 3 (0.146%)
latency average = 112.500 ms
initial connection time = 480.123 ms
tps = 2275.555 (without initial connection time)
`,
    );
    expect(parsePgbench(stdout)).toEqual({
      tps: 2275.555,
      latencyMs: 112.5,
      transactions: 2048,
      failed: 3,
    });
  });

  it('answers nothing for a run that committed nothing (all its time spent connecting)', () => {
    expect(parsePgbench(summary(0, 'number of failed transactions: 0 (NaN%)\n'))).toBeUndefined();
  });

  it('refuses a summary without the figures it needs', () => {
    expect(() => parsePgbench(summary(10, 'latency average = 1.000 ms\n'))).toThrow(/tps/);
  });
});
