import { spawnSync } from 'node:child_process';
import { assertServerPortFree } from './local-servers.ts';
import type { PORTS } from './stack.config.ts';

type PortName = keyof typeof PORTS;

/** The stack's services in infra/docker-compose.yml and the ports each publishes. */
export const COMPOSE_PORTS: Readonly<Record<string, readonly PortName[]>> = {
  postgres: ['postgres'],
  redis: ['redis'],
  rabbitmq: ['amqp', 'rabbitMqManagement'],
  maildev: ['smtp', 'mailWeb'],
  keycloak: ['keycloak'],
};

/**
 * The ports `up` is about to publish: those of the services not running yet. A running
 * container holds its own port, which is no conflict.
 */
export function portsToPublish(running: readonly string[]): PortName[] {
  return Object.entries(COMPOSE_PORTS)
    .filter(([service]) => !running.includes(service))
    .flatMap(([, ports]) => ports);
}

/** The same stack as containers, from infra/docker-compose.yml; volumes keep the data. */
export async function startDockerStack(composeFile: string): Promise<{ stop(): Promise<void> }> {
  // Docker reports a taken port only as a failed `up`; this names the variable that moves it.
  for (const port of portsToPublish(runningServices(composeFile))) {
    await assertServerPortFree(port);
  }
  compose(composeFile, ['up', '--detach', '--wait']);
  return {
    async stop() {
      compose(composeFile, ['stop']);
    },
  };
}

function runningServices(composeFile: string): string[] {
  const result = spawnSync(
    'docker',
    ['compose', '-f', composeFile, 'ps', '--services', '--status', 'running'],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) return [];
  return result.stdout.split('\n').map((line) => line.trim());
}

function compose(composeFile: string, args: string[]): void {
  const result = spawnSync('docker', ['compose', '-f', composeFile, ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`docker compose ${args.join(' ')} failed (exit ${result.status})`);
  }
}
