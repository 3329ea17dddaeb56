import net from 'node:net';
import { freePort } from '@happening/testkit';
import { describe, expect, it } from 'vitest';
import { SERVICES } from '../../scripts/start/services.config.ts';
import { startService } from '../../scripts/start/services.runner.ts';
import { portFromEnv, stackUrls } from '../../scripts/start/stack.config.ts';
import { repoRoot } from '../src/platform.ts';

describe('starting a service', () => {
  it('fails at once, naming the variable to set, when its port is taken', async () => {
    const port = await freePort();
    const holder = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    const catalog = SERVICES.find((s) => s.name === 'catalog');
    if (!catalog) throw new Error('no catalog spec');
    try {
      await expect(
        startService(
          catalog,
          {
            stack: stackUrls(),
            urlOf: () => 'http://127.0.0.1:1',
            notificationSealingKey: '',
            inviteLinkKey: '',
          },
          { repoRoot, logDir: '/tmp', port },
        ),
      ).rejects.toThrow(
        `port ${port} (catalog) is already in use; stop what holds it or set HAPPENING_CATALOG_PORT`,
      );
    } finally {
      holder.close();
    }
  });

  it('moves each service port with its own HAPPENING_*_PORT variable', () => {
    expect(SERVICES.map((s) => s.portEnv)).toEqual([
      'HAPPENING_IDENTITY_ORG_PORT',
      'HAPPENING_CATALOG_PORT',
      'HAPPENING_BOOKING_PORT',
      'HAPPENING_NOTIFICATION_PORT',
      'HAPPENING_GATEWAY_PORT',
    ]);
    const name = 'HAPPENING_SERVICES_RUNNER_TEST_PORT';
    try {
      expect(portFromEnv(name, 3002)).toBe(3002);
      process.env[name] = '4123';
      expect(portFromEnv(name, 3002)).toBe(4123);
      process.env[name] = 'eighty';
      expect(() => portFromEnv(name, 3002)).toThrow(`${name} must be a TCP port, got "eighty"`);
    } finally {
      delete process.env[name];
    }
  });
});
