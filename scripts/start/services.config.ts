import { portFromEnv, type StackUrls } from './stack.config.ts';

/** Where a service runs and what it is handed: the stack, its peers' addresses, its secrets. */
export interface ServiceContext {
  readonly stack: StackUrls;
  /** Base URL of a service of the platform, e.g. `http://127.0.0.1:3002` for `catalog`. */
  urlOf(name: ServiceName): string;
  /** 32 random bytes, base64; kept per data folder so sealed notifications stay readable. */
  readonly notificationSealingKey: string;
  /** 32 random bytes, base64, shared by identity-org and notification: seals invite links. */
  readonly inviteLinkKey: string;
}

export type ServiceName = 'identity-org' | 'catalog' | 'booking' | 'notification' | 'gateway';

/** One Happening service run as a local process once the stack is up (`npm start`, e2e tests). */
export interface ServiceSpec {
  /** Shown in the output and used for its log file `<logs>/<name>.log`. */
  readonly name: ServiceName;
  /** Folder of the service, relative to the repository root (e.g. `services/catalog`). */
  readonly dir: string;
  /** Port `npm start` gives it; `/readyz` on it is polled before the next service starts. */
  readonly port: number;
  /** The variable that moves `port` (read when this module loads). */
  readonly portEnv: string;
  /** The service's environment (besides `PORT`), built from where the stack runs. */
  readonly env: (ctx: ServiceContext) => Record<string, string>;
  /** Command run in `dir`; defaults to `pnpm exec tsx src/main.ts`. */
  readonly command?: readonly string[];
}

const common = ({ stack }: ServiceContext) => ({
  DATABASE_URL: stack.postgresUrl,
  AMQP_URL: stack.amqpUrl,
  OIDC_ISSUER: stack.oidcIssuer,
  OIDC_AUDIENCE: stack.oidcAudience,
  // Keycloak answers on 127.0.0.1 while its issuer says `localhost`, which may resolve to ::1.
  OIDC_JWKS_URI: stack.oidcJwksUri,
});

const port = (portEnv: string, fallback: number) => ({
  port: portFromEnv(portEnv, fallback),
  portEnv,
});

/**
 * The services `npm start` brings up, in start order (a service that others call goes first; the
 * gateway last). A service named `gateway` is printed as the API's entry point.
 */
export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'identity-org',
    dir: 'services/identity-org',
    ...port('HAPPENING_IDENTITY_ORG_PORT', 3001),
    // Invite links point at the gateway, the one origin clients know.
    env: (ctx) => ({
      ...common(ctx),
      PUBLIC_APP_URL: ctx.urlOf('gateway'),
      INVITE_LINK_KEY: ctx.inviteLinkKey,
    }),
  },
  {
    name: 'catalog',
    dir: 'services/catalog',
    ...port('HAPPENING_CATALOG_PORT', 3002),
    env: common,
  },
  {
    name: 'booking',
    dir: 'services/booking',
    ...port('HAPPENING_BOOKING_PORT', 3003),
    env: (ctx) => ({ ...common(ctx), REDIS_URL: ctx.stack.redisUrl }),
  },
  {
    name: 'notification',
    dir: 'services/notification',
    ...port('HAPPENING_NOTIFICATION_PORT', 3004),
    env: (ctx) => ({
      ...common(ctx),
      SMTP_URL: `smtp://${ctx.stack.smtpHost}:${ctx.stack.smtpPort}`,
      MAIL_FROM: 'Happening <no-reply@happening.test>',
      NOTIFICATION_SEALING_KEY: ctx.notificationSealingKey,
      INVITE_LINK_KEY: ctx.inviteLinkKey,
    }),
  },
  {
    name: 'gateway',
    dir: 'services/gateway',
    ...port('HAPPENING_GATEWAY_PORT', 8080),
    env: (ctx) => ({
      IDENTITY_ORG_URL: ctx.urlOf('identity-org'),
      CATALOG_URL: ctx.urlOf('catalog'),
      BOOKING_URL: ctx.urlOf('booking'),
      NOTIFICATION_URL: ctx.urlOf('notification'),
      REDIS_URL: ctx.stack.redisUrl,
      OIDC_ISSUER: ctx.stack.oidcIssuer,
      OIDC_AUDIENCE: ctx.stack.oidcAudience,
      OIDC_JWKS_URI: ctx.stack.oidcJwksUri,
    }),
  },
];
