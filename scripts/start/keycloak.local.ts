import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpOk, type ManagedProcess, spawnManaged, waitUntil } from './managed-process.ts';
import { KEYCLOAK_VERSION, REALM } from './stack.config.ts';

const MIN_JAVA = 21;

/** Where and how to run a local Keycloak. */
export interface KeycloakOptions {
  /** Folder the distribution is unpacked into (once per release). */
  readonly baseDir: string;
  readonly logDir: string;
  /** Realm file imported at start when the realm does not exist yet. */
  readonly realmFile: string;
  readonly port: number;
  /** Public URL (`--hostname`): fixes the `iss` of every token, however Keycloak is reached. */
  readonly publicUrl: string;
  /** SMTP port the realm's own mails (password resets) go to. */
  readonly smtpPort: number;
  /** `dev-file` keeps users and sessions in the distribution's `data/`; `dev-mem` forgets them. */
  readonly database: 'dev-file' | 'dev-mem';
  /** Log file name; `keycloak` by default. */
  readonly name?: string;
}

/**
 * The Keycloak server distribution in development mode, fetched once from Maven Central and
 * unpacked under `baseDir`.
 */
export async function startKeycloak(options: KeycloakOptions): Promise<ManagedProcess> {
  const javaHome = findJavaHome();
  const home = ensureDistribution(options.baseDir);
  stageRealm(home, options.realmFile, options.database === 'dev-file');
  const proc = spawnManaged(
    options.name ?? 'keycloak',
    path.join(home, 'bin', 'kc.sh'),
    [
      'start-dev',
      '--import-realm',
      `--db=${options.database}`,
      `--http-port=${options.port}`,
      '--http-host=127.0.0.1',
      `--hostname=${options.publicUrl}`,
    ],
    {
      logDir: options.logDir,
      env: {
        JAVA_HOME: javaHome,
        KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
        KC_BOOTSTRAP_ADMIN_PASSWORD: 'admin',
        // Bounded heap: the machine is shared with the databases, the broker and the services.
        JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx768m',
        HAPPENING_SMTP_HOST: '127.0.0.1',
        HAPPENING_SMTP_PORT: String(options.smtpPort),
      },
    },
  );
  await waitUntil(
    proc,
    () =>
      httpOk(`http://127.0.0.1:${options.port}/realms/${REALM}/.well-known/openid-configuration`),
    300_000,
  );
  return proc;
}

/** A JDK or JRE new enough for this Keycloak release: JAVA_HOME, then /usr/lib/jvm, then PATH. */
function findJavaHome(): string {
  const candidates = [
    process.env.JAVA_HOME,
    ...(fs.existsSync('/usr/lib/jvm')
      ? fs.readdirSync('/usr/lib/jvm').map((d) => path.join('/usr/lib/jvm', d))
      : []),
  ].filter((c): c is string => Boolean(c));
  const onPath = whichJava();
  if (onPath) candidates.push(path.dirname(path.dirname(fs.realpathSync(onPath))));
  const usable = candidates
    .map((home) => ({ home, version: javaMajor(path.join(home, 'bin', 'java')) }))
    .filter((c) => c.version >= MIN_JAVA)
    .sort((a, b) => b.version - a.version);
  if (usable[0]) return usable[0].home;
  throw new Error(
    `Keycloak ${KEYCLOAK_VERSION} needs Java ${MIN_JAVA} or newer and none was found ` +
      '(looked at JAVA_HOME, /usr/lib/jvm and PATH). Install a JDK 21+ and set JAVA_HOME, ' +
      'or start a Docker engine so that the Keycloak container is used.',
  );
}

function whichJava(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'java');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function javaMajor(java: string): number {
  if (!fs.existsSync(java)) return 0;
  // `java -version` prints to stderr, e.g. `openjdk version "25.0.3"` (`"1.8.0_392"` for Java 8).
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stdout}${result.stderr}`);
  if (!match?.[1]) return 0;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2] ?? 0) : major;
}

/** Written into the distribution once its unzip finished; a folder without it is unpacked again. */
const UNPACKED_STAMP = '.happening-unpacked';

/**
 * The distribution's folder under `baseDir`, unpacked from `zip()` (by default the zip resolved
 * through Maven into ~/.m2) unless a complete unpack is already there. The zip is unpacked into a
 * temporary sibling and renamed into place only once unzip succeeded: an unzip cut short (Ctrl-C,
 * a full disk) used to leave bin/kc.sh with half of lib/ missing, taken as installed at every
 * later start. A folder from before the stamp is replaced too, keeping its `data/` (users and
 * sessions of `dev-file`).
 */
export function ensureDistribution(baseDir: string, zip: () => string = fetchDistribution): string {
  const name = `keycloak-${KEYCLOAK_VERSION}`;
  const home = path.join(baseDir, name);
  if (fs.existsSync(path.join(home, UNPACKED_STAMP))) return home;
  const staging = path.join(baseDir, `.unpacking-${name}`);
  const unpacked = path.join(staging, name);
  // A complete unpack left in staging was stopped while being moved into place: finish that.
  if (!fs.existsSync(path.join(unpacked, UNPACKED_STAMP))) {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    execFileSync('unzip', ['-q', zip(), '-d', staging], { stdio: 'inherit' });
    fs.writeFileSync(path.join(unpacked, UNPACKED_STAMP), `${KEYCLOAK_VERSION}\n`);
  }
  const data = path.join(home, 'data');
  if (fs.existsSync(data) && !fs.existsSync(path.join(unpacked, 'data'))) {
    fs.renameSync(data, path.join(unpacked, 'data'));
  }
  fs.rmSync(home, { recursive: true, force: true });
  fs.renameSync(unpacked, home);
  fs.rmSync(staging, { recursive: true, force: true });
  return home;
}

/** The distribution zip in ~/.m2, fetched from Maven Central when it is not there yet. */
function fetchDistribution(): string {
  const zip = path.join(
    os.homedir(),
    '.m2/repository/org/keycloak/keycloak-quarkus-dist',
    KEYCLOAK_VERSION,
    `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`,
  );
  if (!fs.existsSync(zip)) {
    console.log(`fetching Keycloak ${KEYCLOAK_VERSION} from Maven Central (about 160 MB)…`);
    execFileSync(
      'mvn',
      [
        '-q',
        'dependency:get',
        `-Dartifact=org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`,
        '-Dtransitive=false',
      ],
      { stdio: 'inherit' },
    );
  }
  return zip;
}

/**
 * Keycloak imports a realm only when it does not exist yet, so an edited realm file would be
 * ignored silently: say so, with the way to start the identity data afresh.
 */
function stageRealm(home: string, realmFile: string, persistent: boolean): void {
  const importDir = path.join(home, 'data', 'import');
  fs.mkdirSync(importDir, { recursive: true });
  const content = fs.readFileSync(realmFile);
  fs.writeFileSync(path.join(importDir, `${REALM}-realm.json`), content);
  if (!persistent) return;
  const digest = crypto.createHash('sha256').update(content).digest('hex');
  const stamp = path.join(home, 'data', 'imported-realm.sha256');
  const databaseExists = fs.existsSync(path.join(home, 'data', 'h2'));
  if (databaseExists && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') !== digest) {
    console.warn(
      `warning: ${path.basename(realmFile)} changed since it was imported; Keycloak keeps the ` +
        `imported realm. To import it again, stop and delete ${path.join(home, 'data', 'h2')}.`,
    );
  }
  if (!databaseExists) fs.writeFileSync(stamp, digest);
}
