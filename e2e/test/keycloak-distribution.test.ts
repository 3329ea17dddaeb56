import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureDistribution } from '../../scripts/start/keycloak.local.ts';
import { KEYCLOAK_VERSION } from '../../scripts/start/stack.config.ts';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'keycloak-distribution-'));
const name = `keycloak-${KEYCLOAK_VERSION}`;
const baseDir = path.join(scratch, 'keycloak');
const home = path.join(baseDir, name);

/** A stand-in for the distribution zip: its top folder, kc.sh and one jar. */
const zip = path.join(scratch, 'dist.zip');
fs.writeFileSync(
  zip,
  storedZip({
    [`${name}/bin/kc.sh`]: '#!/bin/sh\n',
    [`${name}/lib/lib/main/keycloak-core.jar`]: 'JAR-BYTES',
  }),
);

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
beforeEach(() => fs.rmSync(baseDir, { recursive: true, force: true }));

const write = (file: string, content: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
};

describe("the local Keycloak's distribution", () => {
  it('is unpacked under baseDir, with nothing left beside it', () => {
    expect(ensureDistribution(baseDir, () => zip)).toBe(home);
    expect(fs.existsSync(path.join(home, 'lib', 'lib', 'main', 'keycloak-core.jar'))).toBe(true);
    expect(fs.readdirSync(baseDir)).toEqual([name]);
  });

  it('is unpacked once: a complete unpack is not unzipped again', () => {
    ensureDistribution(baseDir, () => zip);
    expect(ensureDistribution(baseDir, () => path.join(scratch, 'no-such.zip'))).toBe(home);
  });

  it('replaces a half-unpacked folder (kc.sh there, lib/ missing), keeping its data/', () => {
    write(path.join(home, 'bin', 'kc.sh'), '#!/bin/sh\n');
    write(path.join(home, 'data', 'h2', 'keycloakdb.mv.db'), 'users');
    ensureDistribution(baseDir, () => zip);
    expect(fs.existsSync(path.join(home, 'lib', 'lib', 'main', 'keycloak-core.jar'))).toBe(true);
    expect(fs.readFileSync(path.join(home, 'data', 'h2', 'keycloakdb.mv.db'), 'utf8')).toBe(
      'users',
    );
  });

  it('throws away what an unzip cut short left in the temporary folder', () => {
    write(path.join(baseDir, `.unpacking-${name}`, name, 'bin', 'kc.sh'), '#!/bin/sh\n');
    ensureDistribution(baseDir, () => zip);
    expect(fs.existsSync(path.join(home, 'lib', 'lib', 'main', 'keycloak-core.jar'))).toBe(true);
    expect(fs.readdirSync(baseDir)).toEqual([name]);
  });

  it('finishes a move into place that was stopped, with the data/ it carried', () => {
    const unpacked = path.join(baseDir, `.unpacking-${name}`, name);
    write(path.join(unpacked, 'bin', 'kc.sh'), '#!/bin/sh\n');
    write(path.join(unpacked, '.happening-unpacked'), `${KEYCLOAK_VERSION}\n`);
    write(path.join(unpacked, 'data', 'h2', 'keycloakdb.mv.db'), 'users');
    expect(ensureDistribution(baseDir, () => path.join(scratch, 'no-such.zip'))).toBe(home);
    expect(fs.readFileSync(path.join(home, 'data', 'h2', 'keycloakdb.mv.db'), 'utf8')).toBe(
      'users',
    );
    expect(fs.readdirSync(baseDir)).toEqual([name]);
  });

  it('is not taken as installed after an unzip that failed half-way', () => {
    // The jar's bytes no longer match its CRC: unzip writes kc.sh, then fails on the jar.
    const broken = path.join(scratch, 'broken.zip');
    const bytes = fs.readFileSync(zip);
    bytes.write('X', bytes.indexOf('JAR-BYTES'));
    fs.writeFileSync(broken, bytes);
    expect(() => ensureDistribution(baseDir, () => broken)).toThrow();
    ensureDistribution(baseDir, () => zip);
    expect(
      fs.readFileSync(path.join(home, 'lib', 'lib', 'main', 'keycloak-core.jar'), 'utf8'),
    ).toBe('JAR-BYTES');
  });
});

/** A zip of uncompressed entries, so the test needs neither `zip` nor a zip library. */
function storedZip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [entryName, text] of Object.entries(entries)) {
    const nameBytes = Buffer.from(entryName);
    const data = Buffer.from(text);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
