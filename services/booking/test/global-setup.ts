import { INFRA_ENV, startPostgres, startRabbitMq, startRedis } from '@happening/testkit';

/**
 * One set of servers for all of this package's test files (each still carves out its own
 * database and vhost through `startInfra`), unless `npm test` already named shared ones.
 */
export default async function setup() {
  if (process.env[INFRA_ENV.postgres]) return;
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
