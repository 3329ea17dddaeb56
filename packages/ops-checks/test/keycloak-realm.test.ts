import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../src/repo.paths.ts';

interface IdentityProvider {
  alias: string;
  providerId: string;
  trustEmail: boolean;
}

const realm = JSON.parse(
  fs.readFileSync(fromRoot('infra', 'keycloak', 'happening-realm.json'), 'utf8'),
) as { verifyEmail: boolean; identityProviders: IdentityProvider[] };

/**
 * Identity providers whose every address handed over is verified by them. Google's accounts are;
 * GitHub hands over a user's primary address, which may be unverified there.
 */
const VERIFYING_PROVIDERS = new Set(['google']);

describe('the Keycloak realm', () => {
  // A verified address is what accepting an invite and linking an invite's notice to a person
  // rely on (identity-org, notification): a provider's word for it is taken only where it holds.
  it("takes an identity provider's addresses as verified only from providers that verify every one", () => {
    expect(realm.identityProviders.length).toBeGreaterThan(0);
    for (const provider of realm.identityProviders) {
      expect(provider.trustEmail, provider.alias).toBe(
        VERIFYING_PROVIDERS.has(provider.providerId),
      );
    }
  });

  it('asks everyone else to verify their address by email', () => {
    expect(realm.verifyEmail).toBe(true);
  });
});
