import { GenericContainer, getContainerRuntimeClient, Wait } from 'testcontainers';
import { memoryAlarmSwitch, type RabbitMqHandle } from './rabbitmq.ts';
import type { ServerHandle } from './server-handle.ts';

let dockerAnswers: Promise<boolean> | undefined;

/** True when a Docker engine answers; checked once per process. */
export function dockerEngineAnswers(): Promise<boolean> {
  dockerAnswers ??= getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
  return dockerAnswers;
}

export async function startPostgresContainer(): Promise<ServerHandle> {
  const container = await new GenericContainer('postgres:16-alpine')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=400'])
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  return {
    url: `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startRedisContainer(): Promise<ServerHandle> {
  const container = await new GenericContainer('redis:7-alpine')
    .withCommand(['redis-server', '--save', '', '--databases', '1024'])
    .withExposedPorts(6379)
    .start();
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}/0`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startRabbitMqContainer(): Promise<RabbitMqHandle> {
  const container = await new GenericContainer('rabbitmq:3.13-management-alpine')
    .withExposedPorts(5672, 15672)
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
    .start();
  const host = container.getHost();
  const waitForStartup = async () => {
    for (let i = 0; i < 120; i++) {
      const res = await fetch(`http://${host}:${container.getMappedPort(15672)}/api/overview`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      }).catch(() => undefined);
      if (res?.ok) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  return {
    url: `amqp://guest:guest@${host}:${container.getMappedPort(5672)}`,
    managementUrl: `http://guest:guest@${host}:${container.getMappedPort(15672)}`,
    halt: async () => {
      await container.exec(['rabbitmqctl', 'stop_app']);
    },
    start: async () => {
      await container.exec(['rabbitmqctl', 'start_app']);
      await waitForStartup();
    },
    restart: async () => {
      await container.exec(['rabbitmqctl', 'stop_app']);
      await container.exec(['rabbitmqctl', 'start_app']);
      await waitForStartup();
    },
    stop: async () => {
      await container.stop();
    },
    ...memoryAlarmSwitch(async (tool, args) => (await container.exec([tool, ...args])).exitCode),
  };
}
