// Plain JavaScript: scripts/bootstrap.mjs reads it before any node module (tsx) is installed.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Whether the caller can write `folder`, or create it when it does not exist yet (npm's global
 * `lib/node_modules` appears with the first global install): then its nearest existing parent
 * decides.
 */
export function canWriteOrCreate(folder) {
  let existing = path.resolve(folder);
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) {
    existing = path.dirname(existing);
  }
  try {
    fs.accessSync(existing, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
