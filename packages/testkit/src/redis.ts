import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports.ts';
import { makeTempDir, requireExecutable, spawnManaged, tailLog } from './process.ts';
import type { ServerHandle } from './server-handle.ts';

/** Starts a throwaway Redis server as a local process, without persistence. */
export async function startLocalRedis(): Promise<ServerHandle> {
  const redisServer = requireExecutable('redis-server', 'redis-server');
  const dir = makeTempDir('redis');
  const port = await freePort();
  const proc = spawnManaged(
    redisServer,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--databases',
      '1024',
    ],
    { logFile: path.join(dir, 'redis.log') },
  );
  try {
    await waitForPort(port, 15_000);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`Redis did not start: ${(error as Error).message}\n${tailLog(proc.logFile)}`);
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    async stop() {
      await proc.stop('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
