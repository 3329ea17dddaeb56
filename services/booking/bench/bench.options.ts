import { parseArgs } from 'node:util';

/** What one flash-sale run does; every figure can be set by flag or environment variable. */
export interface BenchOptions {
  /** Distinct users in the flash sale, each asking 1–4 seats once. */
  users: number;
  /** Seats of the one event on sale. */
  seats: number;
  /** Requests in flight at most (HTTP connections), also the reference runs' client count. */
  concurrency: number;
  /** Share of the confirmed bookings that cancel in the second phase. */
  cancelShare: number;
  /** New users booking while the cancellations run. */
  lateUsers: number;
  /** Arrival rate of the second phase, requests/s; 0 = 50% of the first phase's throughput. */
  arrivalRate: number;
  /** Users of a warm-up sale on an event of its own before the measured one; 0 = none. */
  warmupUsers: number;
  /** Seconds each reference (pgbench) run lasts. */
  referenceSeconds: number;
  /** Service log level (request logs cost CPU on a 2-core box; `info` to see them). */
  logLevel: string;
  /** Postgres pool size of each service process. */
  poolSize: number;
  /** Service processes (replicas on their own ports); the generator spreads connections evenly. */
  replicas: number;
  /** A CSV file to write phase 1's requests to (sent and latency, ms), for a time series; none when empty. */
  latencyFile: string;
}

const FLAGS = {
  users: { env: 'BENCH_USERS', fallback: 5_000 },
  seats: { env: 'BENCH_SEATS', fallback: 1_000 },
  concurrency: { env: 'BENCH_CONCURRENCY', fallback: 256 },
  'cancel-share': { env: 'BENCH_CANCEL_SHARE', fallback: 0.25 },
  'late-users': { env: 'BENCH_LATE_USERS', fallback: -1 },
  'arrival-rate': { env: 'BENCH_ARRIVAL_RATE', fallback: 0 },
  'warmup-users': { env: 'BENCH_WARMUP_USERS', fallback: -1 },
  'reference-seconds': { env: 'BENCH_REFERENCE_SECONDS', fallback: 10 },
  'pool-size': { env: 'DATABASE_POOL_SIZE', fallback: 20 },
  replicas: { env: 'BENCH_REPLICAS', fallback: 1 },
} as const;

/** Reads flags (`--users 5000`) first, then BENCH_* variables, then the defaults. */
export function readBenchOptions(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
      'log-level': { type: 'string' },
      'latency-file': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const number = (name: keyof typeof FLAGS) => {
    const raw = (values as Record<string, string | undefined>)[name] ?? env[FLAGS[name].env];
    if (raw === undefined || raw === '') return FLAGS[name].fallback;
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a number ≥ 0`);
    return parsed;
  };
  const users = Math.floor(number('users'));
  const late = number('late-users');
  const warmup = number('warmup-users');
  const options: BenchOptions = {
    users,
    seats: Math.floor(number('seats')),
    concurrency: Math.max(1, Math.floor(number('concurrency'))),
    cancelShare: Math.min(1, number('cancel-share')),
    lateUsers: late < 0 ? Math.floor(users / 5) : Math.floor(late),
    arrivalRate: number('arrival-rate'),
    warmupUsers: warmup < 0 ? users : Math.floor(warmup),
    referenceSeconds: Math.max(1, Math.floor(number('reference-seconds'))),
    logLevel: (values['log-level'] as string | undefined) ?? env.BENCH_LOG_LEVEL ?? 'warn',
    poolSize: Math.max(2, Math.floor(number('pool-size'))),
    replicas: Math.max(1, Math.floor(number('replicas'))),
    latencyFile: (values['latency-file'] as string | undefined) ?? env.BENCH_LATENCY_FILE ?? '',
  };
  if (options.users < 1 || options.seats < 1) throw new Error('--users and --seats must be ≥ 1');
  return options;
}
