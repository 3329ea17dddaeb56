import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSE_PORTS, portsToPublish } from '../../scripts/start/docker-stack.ts';
import { PORT_ENV } from '../../scripts/start/stack.config.ts';
import { repoRoot } from '../src/platform.ts';

describe('starting the stack in Docker', () => {
  it('checks the ports of the services not running yet, and only those', () => {
    expect(portsToPublish([])).toEqual([
      'postgres',
      'redis',
      'amqp',
      'rabbitMqManagement',
      'smtp',
      'mailWeb',
      'keycloak',
    ]);
    expect(portsToPublish(['postgres', 'rabbitmq', 'keycloak'])).toEqual([
      'redis',
      'smtp',
      'mailWeb',
    ]);
  });

  it('knows every port the compose file publishes for the stack, by its variable', () => {
    const compose = fs.readFileSync(path.join(repoRoot, 'infra', 'docker-compose.yml'), 'utf8');
    for (const [service, ports] of Object.entries(COMPOSE_PORTS)) {
      // The service's block: from its key to the next top-level service.
      const block = compose.split(new RegExp(`^  ${service}:\\n`, 'm'))[1]?.split(/^ {2}\S/m)[0];
      expect(block, service).toBeDefined();
      const published = [...(block ?? '').matchAll(/\$\{(HAPPENING_\w+_PORT):-\d+\}:\d+/g)].map(
        (match) => match[1],
      );
      expect(published, service).toEqual(ports.map((port) => PORT_ENV[port]));
    }
  });
});
