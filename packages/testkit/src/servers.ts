import {
  dockerEngineAnswers,
  startPostgresContainer,
  startRabbitMqContainer,
  startRedisContainer,
} from './containers.ts';
import { startLocalPostgres } from './postgres.ts';
import { type RabbitMqHandle, startLocalRabbitMq } from './rabbitmq.ts';
import { startLocalRedis } from './redis.ts';
import type { ServerHandle } from './server-handle.ts';

/** A dedicated PostgreSQL server: a container where Docker answers, a local process otherwise. */
export async function startPostgres(): Promise<ServerHandle> {
  return (await dockerEngineAnswers()) ? startPostgresContainer() : startLocalPostgres();
}

/** A dedicated Redis server: a container where Docker answers, a local process otherwise. */
export async function startRedis(): Promise<ServerHandle> {
  return (await dockerEngineAnswers()) ? startRedisContainer() : startLocalRedis();
}

/** A dedicated RabbitMQ broker the caller may halt and restart (for failure tests). */
export async function startRabbitMq(): Promise<RabbitMqHandle> {
  return (await dockerEngineAnswers()) ? startRabbitMqContainer() : startLocalRabbitMq();
}
