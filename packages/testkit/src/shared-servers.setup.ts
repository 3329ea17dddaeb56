import { INFRA_ENV, startInfra } from './infra.ts';

/**
 * A vitest global setup: one set of servers for all of a package's test files (each still
 * carves out its own database, Redis db and vhost through `startInfra`), unless `npm test`
 * already named shared ones. Name it in `test.globalSetup` as
 * `fileURLToPath(import.meta.resolve('@happening/testkit/shared-servers'))`.
 */
export default async function setupSharedServers(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[INFRA_ENV.postgres]) return undefined;
  const servers = await startInfra();
  process.env[INFRA_ENV.postgres] = servers.postgresUrl;
  process.env[INFRA_ENV.redis] = servers.redisUrl;
  process.env[INFRA_ENV.amqp] = servers.amqpUrl;
  process.env[INFRA_ENV.rabbitMqManagement] = servers.rabbitMqManagementUrl;
  return () => servers.stop();
}
