import { INFRA_ENV } from './infra.ts';
import { startPostgres, startRabbitMq, startRedis } from './servers.ts';

/**
 * A vitest global setup: one set of servers for all of a package's test files (each still
 * carves out its own database, Redis db and vhost through `startInfra`), unless `npm test`
 * already named shared ones. Use as `export { default } from '@happening/testkit/shared-servers'`.
 */
export default async function setupSharedServers(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[INFRA_ENV.postgres]) return undefined;
  const [postgres, redis, rabbit] = await Promise.all([
    startPostgres(),
    startRedis(),
    startRabbitMq(),
  ]);
  process.env[INFRA_ENV.postgres] = postgres.url;
  process.env[INFRA_ENV.redis] = redis.url;
  process.env[INFRA_ENV.amqp] = rabbit.url;
  process.env[INFRA_ENV.rabbitMqManagement] = rabbit.managementUrl;
  return async () => {
    await Promise.all([postgres.stop(), redis.stop(), rabbit.stop()]);
  };
}
