import { createLogger, runService } from '@happening/service-kit';
import { Redis } from 'ioredis';
import { buildGateway } from './app.ts';
import { loadGatewayConfig } from './config.ts';

const config = loadGatewayConfig();
const logger = createLogger({ name: 'gateway', level: config.LOG_LEVEL });

// Without an offline queue a Redis outage fails rate-limit checks at once (and the limiter lets
// requests through) instead of queueing them until Redis returns.
const redis = new Redis(config.REDIS_URL, {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
});
redis.on('error', (err) => logger.warn({ err }, 'redis error'));
await redis.connect();

const app = await buildGateway({ config, redis, logger });
await runService({
  app,
  port: config.PORT,
  host: config.HOST,
  onClose: [() => redis.quit()],
});
