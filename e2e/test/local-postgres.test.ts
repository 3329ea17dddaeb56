import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerEngineAnswers, freePort } from '@happening/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/start/managed-process.ts';

// npm start's PostgreSQL as a local process, on a port and in a folder of its own.
const port = await freePort();
process.env.HAPPENING_PG_PORT = String(port);
const { startPostgres } = await import('../../scripts/start/local-servers.ts');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'local-postgres-'));
// As root the cluster runs as the postgres user, which must reach the folder.
fs.chmodSync(scratch, 0o755);
const dirs = { data: path.join(scratch, 'data'), logs: path.join(scratch, 'logs') };
fs.mkdirSync(dirs.logs, { recursive: true });
let server: ManagedProcess | undefined;

afterAll(async () => {
  await server?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

const query = async (database: string, sql: string) => {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
};

describe.skipIf(await dockerEngineAnswers())("npm start's local PostgreSQL", () => {
  beforeAll(async () => {
    server = await startPostgres(dirs);
  }, 120_000);

  it('creates the happening database again at a start that finds it missing', async () => {
    expect(await query('happening', 'SELECT 1 AS up')).toEqual([{ up: 1 }]);
    // A first start stopped between initdb and CREATE DATABASE left a cluster without it.
    await query('postgres', 'DROP DATABASE happening');
    await server?.stop();
    server = await startPostgres(dirs);
    expect(await query('happening', 'SELECT 1 AS up')).toEqual([{ up: 1 }]);
  }, 120_000);
});
