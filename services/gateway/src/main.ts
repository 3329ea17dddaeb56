import { createLogger, runService } from '@happening/service-kit';
import { Redis } from 'ioredis';
import { buildGateway } from './app.ts';
import { loadGatewayConfig } from './config.ts';

const config = loadGatewayConfig();
const logger = createLogger({ name: 'gateway', level: config.LOG_LEVEL });

// Connects in the background and keeps reconnecting: the gateway serves without Redis, so a Redis
// outage at start must not keep it from listening. Without an offline queue, rate-limit checks
// fail at once while Redis is away (and the limiter lets requests through) instead of queueing.
// A Redis that stops answering without closing the connection (a dead node, a partition) fails
// them after commandTimeout instead of holding every request; the rate limits then drop the
// connection and leave Redis alone for a while (see `createRedisGate`). Keep-alive probes notice
// a dead peer on an idle connection.
const redis = new Redis(config.REDIS_URL, {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
  keepAlive: 10_000,
});
redis.on('error', (err) => logger.warn({ err }, 'redis error'));
redis.on('ready', () => logger.info('connected to redis'));

const app = await buildGateway({ config, redis, logger });
await runService({
  app,
  port: config.PORT,
  host: config.HOST,
  drainMs: config.SHUTDOWN_DRAIN_MS,
  // QUIT cannot be sent while Redis is away (no offline queue): then just stop reconnecting.
  onClose: [() => redis.quit().catch(() => redis.disconnect())],
});
