import { spawnSync } from 'node:child_process';

/** The same stack as containers, from infra/docker-compose.yml; volumes keep the data. */
export function startDockerStack(composeFile: string): { stop(): Promise<void> } {
  compose(composeFile, ['up', '--detach', '--wait']);
  return {
    async stop() {
      compose(composeFile, ['stop']);
    },
  };
}

function compose(composeFile: string, args: string[]): void {
  const result = spawnSync('docker', ['compose', '-f', composeFile, ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`docker compose ${args.join(' ')} failed (exit ${result.status})`);
  }
}
