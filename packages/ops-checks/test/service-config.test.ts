import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/helm.runner.ts';
import {
  CONFIG_SCHEMA_EXPORTS,
  type Container,
  configProblems,
  containerEnv,
  loadConfigSchema,
  requiredVariables,
  serviceNames,
} from '../src/service-config.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const SEALING_KEY = Buffer.alloc(32, 7).toString('base64');
const INVITE_LINK_KEY = Buffer.alloc(32, 8).toString('base64');

function objects(secretData: Record<string, string>): Manifest[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'notification' },
      data: { OIDC_ISSUER: 'https://auth.example.com/realms/happening' },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'credentials' },
      data: Object.fromEntries(Object.entries(secretData).map(([k, v]) => [k, b64(v)])),
    },
  ];
}

const fromSecret = (name: string, key: string, optional?: boolean) => ({
  name,
  valueFrom: { secretKeyRef: { name: 'credentials', key, ...(optional ? { optional } : {}) } },
});

const notificationContainer = (extra: Container['env'] = []): Container => ({
  name: 'notification',
  envFrom: [{ configMapRef: { name: 'notification' } }],
  env: [
    fromSecret('DATABASE_URL', 'database-url'),
    fromSecret('AMQP_URL', 'amqp-url'),
    fromSecret('INVITE_LINK_KEY', 'invite-link-key'),
    ...extra,
  ],
});

const secrets = {
  'database-url': 'postgres://db/happening',
  'amqp-url': 'amqp://mq',
  'invite-link-key': INVITE_LINK_KEY,
};

describe('service config schemas', () => {
  it('are named for every service', () => {
    expect(Object.keys(CONFIG_SCHEMA_EXPORTS).sort()).toEqual(serviceNames());
  });

  it('yield the variables without defaults', async () => {
    const required = Object.fromEntries(
      await Promise.all(
        serviceNames().map(async (s) => [s, requiredVariables(await loadConfigSchema(s))]),
      ),
    );
    const shared = ['AMQP_URL', 'DATABASE_URL', 'OIDC_ISSUER'];
    expect(required).toEqual({
      'identity-org': [...shared, 'INVITE_LINK_KEY'].sort(),
      catalog: shared,
      booking: [...shared, 'REDIS_URL'].sort(),
      notification: [...shared, 'INVITE_LINK_KEY', 'NOTIFICATION_SEALING_KEY'].sort(),
      gateway: ['OIDC_ISSUER'],
    });
  });
});

describe('configProblems', () => {
  it('accepts a complete environment from a ConfigMap and a Secret', async () => {
    const schema = await loadConfigSchema('notification');
    const env = containerEnv(
      objects({ ...secrets, sealing: SEALING_KEY }),
      notificationContainer([fromSecret('NOTIFICATION_SEALING_KEY', 'sealing')]),
    );
    expect(env.values.NOTIFICATION_SEALING_KEY).toBe(SEALING_KEY);
    expect(configProblems(schema, env)).toEqual([]);
  });

  it('reports missing, optional-only, dangling and invalid variables', async () => {
    const schema = await loadConfigSchema('notification');
    expect(configProblems(schema, containerEnv(objects(secrets), notificationContainer()))).toEqual(
      ['NOTIFICATION_SEALING_KEY is required but not set'],
    );
    const optional = containerEnv(
      objects({ ...secrets, sealing: SEALING_KEY }),
      notificationContainer([fromSecret('NOTIFICATION_SEALING_KEY', 'sealing', true)]),
    );
    expect(configProblems(schema, optional)).toEqual([
      'NOTIFICATION_SEALING_KEY is required but set optionally',
    ]);
    const dangling = containerEnv(
      objects(secrets),
      notificationContainer([fromSecret('NOTIFICATION_SEALING_KEY', 'sealing')]),
    );
    expect(configProblems(schema, dangling)).toEqual([
      'NOTIFICATION_SEALING_KEY: Secret/credentials has no key sealing',
      'NOTIFICATION_SEALING_KEY is required but not set',
    ]);
    const invalid = containerEnv(
      objects({ ...secrets, sealing: 'c2hvcnQ=' }),
      notificationContainer([
        fromSecret('NOTIFICATION_SEALING_KEY', 'sealing'),
        { name: 'SMS_API_URL', value: '' },
      ]),
    );
    expect(configProblems(schema, invalid).map((p) => p.split(':')[0])).toEqual([
      'SMS_API_URL',
      'NOTIFICATION_SEALING_KEY',
    ]);
  });

  it('does not judge values of a Secret that is not rendered', async () => {
    const schema = await loadConfigSchema('notification');
    const env = containerEnv(
      objects(secrets).filter((m) => m.kind === 'ConfigMap'),
      notificationContainer([fromSecret('NOTIFICATION_SEALING_KEY', 'sealing')]),
    );
    expect(env.values).toHaveProperty('NOTIFICATION_SEALING_KEY', undefined);
    expect(configProblems(schema, env)).toEqual([]);
  });
});
