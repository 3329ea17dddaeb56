import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startPostgres, startRabbitMq, startRedis } from './servers.ts';

/** Connection URLs of real, isolated infrastructure for one test file or one run. */
export interface Infra {
  readonly postgresUrl: string;
  readonly redisUrl: string;
  readonly amqpUrl: string;
  /** RabbitMQ management API base URL with credentials (for queue inspection). */
  readonly rabbitMqManagementUrl: string;
  stop(): Promise<void>;
}

/** Environment variables naming shared servers; `npm test` starts them once and sets these. */
export const INFRA_ENV = {
  postgres: 'HAPPENING_TEST_POSTGRES_URL',
  redis: 'HAPPENING_TEST_REDIS_URL',
  amqp: 'HAPPENING_TEST_AMQP_URL',
  rabbitMqManagement: 'HAPPENING_TEST_RABBITMQ_MANAGEMENT_URL',
} as const;

/**
 * Returns isolated Postgres, Redis and RabbitMQ endpoints. When shared servers are named in the
 * environment it carves out a fresh database, Redis logical database and RabbitMQ vhost on them;
 * otherwise it starts dedicated servers (containers where Docker answers, local processes otherwise).
 */
export async function startInfra(): Promise<Infra> {
  const env = process.env;
  const shared = {
    postgres: env[INFRA_ENV.postgres],
    redis: env[INFRA_ENV.redis],
    amqp: env[INFRA_ENV.amqp],
    management: env[INFRA_ENV.rabbitMqManagement],
  };
  if (shared.postgres && shared.redis && shared.amqp && shared.management) {
    return isolateOnShared({
      postgres: shared.postgres,
      redis: shared.redis,
      amqp: shared.amqp,
      management: shared.management,
    });
  }
  const [postgres, redis, rabbit] = await Promise.all([
    startPostgres(),
    startRedis(),
    startRabbitMq(),
  ]);
  return {
    postgresUrl: postgres.url,
    redisUrl: redis.url,
    amqpUrl: rabbit.url,
    rabbitMqManagementUrl: rabbit.managementUrl,
    async stop() {
      await Promise.all([postgres.stop(), redis.stop(), rabbit.stop()]);
    },
  };
}

async function isolateOnShared(urls: {
  postgres: string;
  redis: string;
  amqp: string;
  management: string;
}): Promise<Infra> {
  const suffix = randomBytes(6).toString('hex');
  const database = `test_${suffix}`;
  const vhost = `test_${suffix}`;

  const admin = new pg.Client({ connectionString: urls.postgres });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();

  const redisAdmin = new Redis(urls.redis);
  const redisDb = (Number(await redisAdmin.incr('happening:testkit:next-db')) % 1023) + 1;
  await redisAdmin.quit();

  await managementRequest(urls.management, 'PUT', `/api/vhosts/${vhost}`);
  await managementRequest(urls.management, 'PUT', `/api/permissions/${vhost}/guest`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });

  const postgresUrl = withPath(urls.postgres, `/${database}`);
  const redisUrl = withPath(urls.redis, `/${redisDb}`);
  const amqpUrl = withPath(urls.amqp, `/${vhost}`);
  return {
    postgresUrl,
    redisUrl,
    amqpUrl,
    rabbitMqManagementUrl: urls.management,
    async stop() {
      const cleanup = new pg.Client({ connectionString: urls.postgres });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await cleanup.end();
      const redis = new Redis(redisUrl);
      await redis.flushdb();
      await redis.quit();
      await managementRequest(urls.management, 'DELETE', `/api/vhosts/${vhost}`);
    },
  };
}

function withPath(url: string, pathname: string): string {
  const parsed = new URL(url);
  parsed.pathname = pathname;
  return parsed.toString();
}

/** Calls the RabbitMQ management HTTP API (`baseUrl` carries the credentials). */
export async function managementRequest(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const parsed = new URL(baseUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`,
  ).toString('base64');
  const res = await fetch(`${parsed.protocol}//${parsed.host}${path}`, {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`RabbitMQ management ${method} ${path} answered ${res.status}`);
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}
