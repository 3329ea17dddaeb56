import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { eventually } from './eventually.ts';
import { freePort } from './ports.ts';
import { isRoot, makeTempDir, requireExecutable, runAs, spawnManaged, tailLog } from './process.ts';
import type { ServerHandle } from './server-handle.ts';

const PG_BIN_DIRS = fs.existsSync('/usr/lib/postgresql')
  ? fs
      .readdirSync('/usr/lib/postgresql')
      .sort()
      .reverse()
      .map((v) => `/usr/lib/postgresql/${v}/bin`)
  : [];

/** Starts a throwaway PostgreSQL server as a local process (initdb into a temporary folder). */
export async function startLocalPostgres(): Promise<ServerHandle> {
  const initdb = requireExecutable('initdb', 'postgresql', PG_BIN_DIRS);
  const postgres = requireExecutable('postgres', 'postgresql', PG_BIN_DIRS);
  const dir = makeTempDir('pg');
  const dataDir = path.join(dir, 'data');
  // PostgreSQL refuses to run as root: run it as the `postgres` system user the OS package creates.
  const user = isRoot() ? 'postgres' : undefined;
  if (user) runAs(undefined, 'chown', ['-R', `${user}:${user}`, dir]);
  runAs(user, initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const proc = spawnManaged(
    postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=400',
      '-c',
      'shared_buffers=256MB',
    ],
    { logFile: path.join(dir, 'postgres.log'), user },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    // Not its open port: it listens while it still starts up, refusing connections (57P03).
    await eventually(() => answersQueries(url), { timeoutMs: 30_000, what: 'PostgreSQL' });
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(
      `PostgreSQL did not start: ${(error as Error).message}\n${tailLog(proc.logFile)}`,
    );
  }
  return {
    url,
    async stop() {
      await proc.stop('SIGINT');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True once the server answers a query; throws why it does not yet (kept by `eventually`). */
async function answersQueries(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
