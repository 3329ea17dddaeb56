import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Infra, managementRequest, startInfra } from '../src/index.ts';

describe('startInfra', () => {
  let infra: Infra;
  beforeAll(async () => {
    infra = await startInfra();
  });
  afterAll(async () => {
    await infra?.stop();
  });

  it('gives a working PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: infra.postgresUrl });
    await client.connect();
    const { rows } = await client.query('select 41 + 1 as answer');
    await client.end();
    expect(rows[0].answer).toBe(42);
  });

  it('gives a working Redis', async () => {
    const redis = new Redis(infra.redisUrl);
    await redis.set('k', 'v');
    expect(await redis.get('k')).toBe('v');
    await redis.quit();
  });

  it('gives a working RabbitMQ with a management API', async () => {
    const connection = await amqp.connect(infra.amqpUrl);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    channel.sendToQueue(queue, Buffer.from('hello'));
    const message = await new Promise<amqp.ConsumeMessage>((resolve) => {
      void channel.consume(queue, (m) => m && resolve(m), { noAck: true });
    });
    expect(message.content.toString()).toBe('hello');
    await connection.close();
    const overview = (await managementRequest(
      infra.rabbitMqManagementUrl,
      'GET',
      '/api/overview',
    )) as {
      management_version: string;
    };
    expect(overview.management_version).toBeTruthy();
  });
});
