import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startInfra } from '@happening/testkit';
import { startKeycloak } from '../../scripts/start/keycloak.local.ts';
import type { ManagedProcess } from '../../scripts/start/managed-process.ts';
import {
  SERVICES,
  type ServiceContext,
  type ServiceName,
} from '../../scripts/start/services.config.ts';
import { startService } from '../../scripts/start/services.runner.ts';
import { keycloakUrls, type StackUrls } from '../../scripts/start/stack.config.ts';
import { startMailSink } from './mail-sink.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the tests reach the running platform. */
export interface PlatformUrls {
  readonly gatewayUrl: string;
  /** The realm's token endpoint (password grant of `happening-cli`). */
  readonly tokenUrl: string;
  /** Keycloak itself, for its admin API (creating more people). */
  readonly keycloakUrl: string;
  readonly mailApiUrl: string;
  readonly logDir: string;
}

export interface Platform extends PlatformUrls {
  stop(): Promise<void>;
}

/**
 * The whole platform as `npm start` runs it, on free ports and throwaway data: PostgreSQL, Redis
 * and RabbitMQ (testkit), maildev, Keycloak with the `happening` realm in memory, the four
 * services and the gateway as child processes.
 */
export async function startPlatform(): Promise<Platform> {
  const logDir = path.join(repoRoot, '.data', 'e2e', 'logs');
  fs.rmSync(logDir, { recursive: true, force: true });
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const item of started.reverse()) await item.stop().catch(() => {});
  };
  try {
    const mail = await startMailSink(logDir, repoRoot);
    started.push(mail);
    const keycloakPort = await freePort();
    const oidc = keycloakUrls(keycloakPort);
    // Keycloak takes longest: it boots while the rest comes up.
    const keycloak = startKeycloak({
      // Its own copy of the distribution: a different `--db` rebuilds the one it runs from.
      baseDir: path.join(repoRoot, '.data', 'e2e', 'keycloak'),
      logDir,
      realmFile: path.join(repoRoot, 'infra', 'keycloak', 'happening-realm.json'),
      port: keycloakPort,
      publicUrl: oidc.keycloakUrl,
      smtpPort: mail.smtpPort,
      database: 'dev-mem',
    });
    keycloak.then((proc) => started.push(proc)).catch(() => {});

    const infra = await startInfra();
    started.push(infra);
    const stack: StackUrls = {
      postgresUrl: infra.postgresUrl,
      redisUrl: infra.redisUrl,
      amqpUrl: infra.amqpUrl,
      rabbitMqManagementUrl: infra.rabbitMqManagementUrl,
      ...oidc,
      smtpHost: '127.0.0.1',
      smtpPort: mail.smtpPort,
      mailWebUrl: mail.apiUrl,
    };
    const ports = new Map<ServiceName, number>();
    for (const spec of SERVICES) ports.set(spec.name, await freePort());
    const ctx: ServiceContext = {
      stack,
      urlOf: (name) => `http://127.0.0.1:${ports.get(name)}`,
      notificationSealingKey: crypto.randomBytes(32).toString('base64'),
      inviteLinkKey: crypto.randomBytes(32).toString('base64'),
    };
    const launch = (name: ServiceName, extraEnv: Record<string, string> = {}) => {
      const spec = SERVICES.find((s) => s.name === name);
      if (!spec) throw new Error(`no service ${name}`);
      return startService(spec, ctx, { repoRoot, logDir, port: ports.get(name), extraEnv }).then(
        (proc: ManagedProcess) => {
          started.push(proc);
          return proc;
        },
      );
    };
    await Promise.all([
      launch('identity-org'),
      launch('catalog'),
      launch('booking'),
      // A booking notice can reach notification before the person's first contact does: its
      // retry comes after a second here rather than the production five.
      launch('notification', { DELIVERY_RETRY_DELAYS_MS: '1000,2000,4000,8000,16000' }),
    ]);
    await launch('gateway');
    await keycloak;
    return {
      gatewayUrl: ctx.urlOf('gateway'),
      tokenUrl: oidc.oidcTokenUrl,
      keycloakUrl: `http://127.0.0.1:${keycloakPort}`,
      mailApiUrl: mail.apiUrl,
      logDir,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n(logs in ${logDir})`);
  }
}
