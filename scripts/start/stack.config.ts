/** Fixed, documented ports of the local stack; each can be moved with its environment variable. */
export const PORTS = {
  postgres: portFromEnv('HAPPENING_PG_PORT', 55432),
  redis: portFromEnv('HAPPENING_REDIS_PORT', 6379),
  amqp: portFromEnv('HAPPENING_AMQP_PORT', 5672),
  rabbitMqManagement: portFromEnv('HAPPENING_RABBITMQ_MANAGEMENT_PORT', 15672),
  keycloak: portFromEnv('HAPPENING_KEYCLOAK_PORT', 8180),
  smtp: portFromEnv('HAPPENING_SMTP_PORT', 1025),
  mailWeb: portFromEnv('HAPPENING_MAIL_WEB_PORT', 1080),
} as const;

/** The environment variable that moves each port, for error messages. */
export const PORT_ENV: Record<keyof typeof PORTS, string> = {
  postgres: 'HAPPENING_PG_PORT',
  redis: 'HAPPENING_REDIS_PORT',
  amqp: 'HAPPENING_AMQP_PORT',
  rabbitMqManagement: 'HAPPENING_RABBITMQ_MANAGEMENT_PORT',
  keycloak: 'HAPPENING_KEYCLOAK_PORT',
  smtp: 'HAPPENING_SMTP_PORT',
  mailWeb: 'HAPPENING_MAIL_WEB_PORT',
};

/** Keycloak release run locally and in Docker Compose (infra/docker-compose.yml pins the same). */
export const KEYCLOAK_VERSION = '26.4.5';
export const REALM = 'happening';
export const API_AUDIENCE = 'happening-api';

/** Where everything in the local stack is reached; handed to every service's `env`. */
export interface StackUrls {
  readonly postgresUrl: string;
  readonly redisUrl: string;
  readonly amqpUrl: string;
  readonly rabbitMqManagementUrl: string;
  readonly keycloakUrl: string;
  /** Access tokens' `iss`: `${keycloakUrl}/realms/happening`. */
  readonly oidcIssuer: string;
  /** The realm's signing keys, reached over IPv4 whatever `localhost` resolves to. */
  readonly oidcJwksUri: string;
  /** The realm's token endpoint, over IPv4 too. */
  readonly oidcTokenUrl: string;
  readonly oidcAudience: string;
  readonly smtpHost: string;
  readonly smtpPort: number;
  readonly mailWebUrl: string;
}

export function stackUrls(): StackUrls {
  return {
    postgresUrl: `postgres://postgres:postgres@127.0.0.1:${PORTS.postgres}/happening`,
    redisUrl: `redis://127.0.0.1:${PORTS.redis}/0`,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${PORTS.amqp}`,
    rabbitMqManagementUrl: `http://127.0.0.1:${PORTS.rabbitMqManagement}`,
    ...keycloakUrls(PORTS.keycloak),
    smtpHost: '127.0.0.1',
    smtpPort: PORTS.smtp,
    mailWebUrl: `http://127.0.0.1:${PORTS.mailWeb}`,
  };
}

/** Keycloak's public URL, the realm's issuer and its key set for a Keycloak on `port`. */
export function keycloakUrls(
  port: number,
): Pick<StackUrls, 'keycloakUrl' | 'oidcIssuer' | 'oidcJwksUri' | 'oidcTokenUrl' | 'oidcAudience'> {
  // Keycloak is started with this exact hostname, so `iss` does not depend on how it was reached.
  const keycloakUrl = `http://localhost:${port}`;
  const endpoints = `http://127.0.0.1:${port}/realms/${REALM}/protocol/openid-connect`;
  return {
    keycloakUrl,
    oidcIssuer: `${keycloakUrl}/realms/${REALM}`,
    oidcJwksUri: `${endpoints}/certs`,
    oidcTokenUrl: `${endpoints}/token`,
    oidcAudience: API_AUDIENCE,
  };
}

/** The port in variable `name`, or `fallback` when it is unset; anything but a TCP port throws. */
export function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${name} must be a TCP port, got "${raw}"`);
  }
  return port;
}
