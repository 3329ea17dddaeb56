import { mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';

/**
 * A folder linking the migrations of `folder` named before `first`: an earlier release's, to
 * migrate a database as that release left it.
 */
export async function migrationsBefore(folder: URL, first: string): Promise<string> {
  const source = fileURLToPath(folder);
  const earlier = await mkdtemp(path.join(tmpdir(), 'migrations-'));
  for (const file of await readdir(source)) {
    if (file < first) await symlink(path.join(source, file), path.join(earlier, file));
  }
  return earlier;
}

/** The index `name` of `schema`: its definition, the schema left out, and whether it is valid. */
export async function indexIn(db: Kysely<unknown>, schema: string, name: string) {
  const { rows } = await sql<{ definition: string; valid: boolean }>`
    SELECT replace(pg_get_indexdef(i.indexrelid), ${`${schema}.`}, '') AS definition,
      i.indisvalid AS valid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname = ${name}`.execute(db);
  return rows;
}
