import { randomBytes } from 'node:crypto';
import { passwordGrant } from '../../scripts/start/api.client.ts';

/** A person of the realm, signed in: their token's `sub`, email and access token. */
export interface Person {
  readonly username: string;
  readonly email: string;
  readonly id: string;
  readonly token: string;
}

/** Creates people in the `happening` realm through Keycloak's admin API, then signs them in. */
export function keycloakAdmin(keycloakUrl: string, tokenUrl: string) {
  const adminToken = () =>
    fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: 'admin',
        password: 'admin',
      }),
    })
      .then((res) => res.json() as Promise<{ access_token: string }>)
      .then((body) => body.access_token);

  return {
    /** Signs in one of the realm's demo users (password `<name>-password`). */
    async signIn(username: string): Promise<Person> {
      const token = await passwordGrant(tokenUrl, username, `${username}-password`);
      return { username, email: `${username}@happening.test`, id: subOf(token), token };
    },
    /** A new person with a verified email, unique to this run. */
    async createPerson(firstName: string): Promise<Person> {
      const username = `${firstName.toLowerCase()}-${randomBytes(4).toString('hex')}`;
      const email = `${username}@e2e.happening.test`;
      const password = randomBytes(12).toString('base64url');
      const res = await fetch(`${keycloakUrl}/admin/realms/happening/users`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await adminToken()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          username,
          email,
          emailVerified: true,
          enabled: true,
          firstName,
          lastName: 'Tester',
          credentials: [{ type: 'password', value: password, temporary: false }],
        }),
      });
      if (res.status !== 201)
        throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
      const token = await passwordGrant(tokenUrl, username, password);
      return { username, email, id: subOf(token), token };
    },
  };
}

function subOf(token: string): string {
  const payload = token.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string }).sub;
}
