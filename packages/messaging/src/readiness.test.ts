import { describe, expect, it } from 'vitest';
import { brokerReadiness } from './readiness.ts';

describe('brokerReadiness', () => {
  it('passes while connected and fails while the broker is away', async () => {
    let connected = true;
    const check = brokerReadiness({ isConnected: () => connected });
    await expect(check()).resolves.toBeUndefined();
    connected = false;
    await expect(check()).rejects.toThrow('not connected to RabbitMQ');
  });
});
