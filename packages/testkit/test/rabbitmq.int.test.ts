import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listeningAddresses, loopbackOnly } from '../src/ports.ts';
import { erlangCookie, type RabbitMqHandle, startLocalRabbitMq } from '../src/rabbitmq.ts';

describe('a local RabbitMQ node', () => {
  let rabbit: RabbitMqHandle;
  beforeAll(async () => {
    rabbit = await startLocalRabbitMq();
  }, 180_000);
  afterAll(async () => {
    await rabbit?.stop();
  });

  it('listens for Erlang distribution on the loopback interface only', () => {
    const port = rabbit.distributionPort;
    if (port === undefined) throw new Error('a local node has a distribution port');
    const addresses = listeningAddresses(port);
    expect(addresses.length).toBeGreaterThan(0);
    expect(loopbackOnly(addresses), `listening on ${addresses.join(', ')}`).toBe(true);
    expect(
      loopbackOnly(
        listeningAddresses(new URL(rabbit.url).port ? Number(new URL(rabbit.url).port) : 0),
      ),
    ).toBe(true);
  });
});

describe('erlangCookie', () => {
  it('is a different long secret every time', () => {
    const cookies = new Set(Array.from({ length: 100 }, erlangCookie));
    expect(cookies.size).toBe(100);
    for (const cookie of cookies) expect(cookie.length).toBeGreaterThanOrEqual(32);
  });
});
