import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canWriteOrCreate } from '../../scripts/start/writable-folder.mjs';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'writable-folder-'));

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("bootstrap's check of npm's global folder", () => {
  it('takes a folder that exists and is writable', () => {
    expect(canWriteOrCreate(scratch)).toBe(true);
  });

  it('takes a folder not created yet under a writable parent (before the first global install)', () => {
    expect(canWriteOrCreate(path.join(scratch, 'lib', 'node_modules'))).toBe(true);
  });
});
