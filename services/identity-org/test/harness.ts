import { randomBytes, randomUUID } from 'node:crypto';
import { createSealedBox, type DomainEvent } from '@happening/contracts';
import { createDb, migrateToLatest } from '@happening/db';
import { connectBroker, SUBSCRIBING_SERVICES } from '@happening/messaging';
import { captureEvents } from '@happening/messaging/testing';
import { eventually, startInfra, startTokenIssuer, type TokenOptions } from '@happening/testkit';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import type { IdentityDatabase } from '../src/db.types.ts';
import { startRuntime } from '../src/runtime.ts';
import { DB_SCHEMA, MIGRATIONS_FOLDER } from '../src/schema.ts';

export const PUBLIC_APP_URL = 'http://app.happening.test';
/** The key identity-org seals invite links with for notification, as notification holds it. */
export const INVITE_LINK_KEY = randomBytes(32).toString('base64');
/** Opens what identity-org sealed, as notification does. */
export const inviteLinks = createSealedBox(Buffer.from(INVITE_LINK_KEY, 'base64'));

/** A person with a token. */
export interface TestUser {
  sub: string;
  email: string;
  token: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * identity-org wired as main.ts wires it, on throwaway Postgres and RabbitMQ, with a test queue
 * bound to every identity event on `happening.events`.
 */
/** The harness's `ORGANIZATIONS_PER_OWNER`. */
export const ORGANIZATIONS_PER_OWNER = 20;

/** One entry of `GET /v1/orgs/{orgId}/audit`. */
export interface AuditItem {
  action: string;
  actorId: string | null;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

/** The harness's `INVITE_TTL_HOURS`. */
export const INVITE_TTL_HOURS = 168;
/** The harness's `INVITES_PER_ADDRESS_PER_DAY` (the default). */
export const INVITES_PER_ADDRESS_PER_DAY = 3;
/** The harness's `INVITES_PER_ORG_PER_DAY` (the default) unless a test asks for another. */
export const INVITES_PER_ORG_PER_DAY = 200;
/** The harness's `INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS` (the default) unless a test asks for another. */
export const INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS = 10;

/** Settings a test may give the app in place of the harness's. */
export interface HarnessOptions {
  invitesPerOrgPerDay?: number;
  invitesPerAddressPerDayAllOrgs?: number;
}

export async function startHarness(options: HarnessOptions = {}) {
  const infra = await startInfra();
  const issuer = await startTokenIssuer();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const db = createDb<IdentityDatabase>({ connectionString: infra.postgresUrl, schema: DB_SCHEMA });
  await migrateToLatest({ db, schema: DB_SCHEMA, migrationsFolder: MIGRATIONS_FOLDER });

  // Bound before the relay starts, so the first event already has somewhere to go.
  const captured = await captureEvents(infra.amqpUrl, ['identity.#']);
  const events = captured.events;

  const broker = await connectBroker({ url: infra.amqpUrl, logger });
  const runtime = await startRuntime({
    db,
    broker,
    logger,
    inviteExpirySweepMs: 3_600_000,
    eventConsumers: SUBSCRIBING_SERVICES,
  });
  const app = buildApp({
    db,
    logger,
    config: {
      OIDC_ISSUER: issuer.issuer,
      OIDC_AUDIENCE: issuer.audience,
      OIDC_JWKS_URI: issuer.jwksUri,
      PUBLIC_APP_URL,
      INVITE_TTL_HOURS,
      INVITE_LINK_KEY,
      ORGANIZATIONS_PER_OWNER,
      INVITES_PER_ADDRESS_PER_DAY,
      INVITES_PER_ORG_PER_DAY: options.invitesPerOrgPerDay ?? INVITES_PER_ORG_PER_DAY,
      INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS:
        options.invitesPerAddressPerDayAllOrgs ?? INVITES_PER_ADDRESS_PER_DAY_ALL_ORGS,
    },
  });
  await app.ready();

  async function user(options: TokenOptions = {}): Promise<TestUser> {
    const sub = options.sub ?? randomUUID();
    const email = options.email ?? `${sub.slice(0, 8)}@example.test`;
    return { sub, email, token: await issuer.token({ ...options, sub, email }) };
  }

  async function call(
    who: TestUser | string | undefined,
    method: Method,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const token = typeof who === 'string' ? who : who?.token;
    return app.inject({
      method,
      url,
      headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...headers },
      ...(body !== undefined && { payload: body as Record<string, unknown> }),
    });
  }

  /** Signs `owner` up with a fresh organization; returns its id. */
  async function signUp(owner: TestUser, organizationName = `Org ${randomUUID().slice(0, 6)}`) {
    const res = await call(owner, 'POST', '/v1/signup', { organizationName });
    if (res.statusCode !== 201) throw new Error(`signup answered ${res.statusCode}: ${res.body}`);
    return res.json().organization.id as string;
  }

  /** Invites `who` (a new user by default) with `role` and accepts the invite as them. */
  async function addMember(
    orgId: string,
    admin: TestUser,
    role: string,
    who?: TestUser,
  ): Promise<TestUser> {
    const member = who ?? (await user());
    const invite = await call(admin, 'POST', `/v1/orgs/${orgId}/invites`, {
      email: member.email,
      role,
    });
    if (invite.statusCode !== 201)
      throw new Error(`invite answered ${invite.statusCode}: ${invite.body}`);
    const accept = await call(member, 'POST', '/v1/invites/accept', { token: invite.json().token });
    if (accept.statusCode !== 200)
      throw new Error(`accept answered ${accept.statusCode}: ${accept.body}`);
    return member;
  }

  /** The organization's audit trail as `admin` reads it, newest first (up to 100 entries). */
  async function auditOf(admin: TestUser, orgId: string): Promise<AuditItem[]> {
    const res = await call(admin, 'GET', `/v1/orgs/${orgId}/audit?limit=100`);
    if (res.statusCode !== 200) throw new Error(`audit answered ${res.statusCode}: ${res.body}`);
    return res.json().items;
  }

  /** Waits for the published event matching `match`. */
  function event<T extends DomainEvent['type']>(
    type: T,
    match: (event: Extract<DomainEvent, { type: T }>) => boolean = () => true,
  ): Promise<Extract<DomainEvent, { type: T }>> {
    return eventually(
      () =>
        events.find(
          (e): e is Extract<DomainEvent, { type: T }> =>
            e.type === type && match(e as Extract<DomainEvent, { type: T }>),
        ),
      { what: type },
    );
  }

  return {
    app,
    db,
    amqpUrl: infra.amqpUrl,
    events,
    issuer,
    user,
    call,
    signUp,
    addMember,
    auditOf,
    event,
    async stop() {
      await app.close();
      await runtime.stop();
      await broker.close();
      await captured.close();
      await db.destroy();
      await issuer.stop();
      await infra.stop();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
