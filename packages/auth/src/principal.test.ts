import { describe, expect, it } from 'vitest';
import { principalFromClaims } from './principal.ts';

const sub = '6a1f2d34-5b6c-4d7e-8f90-a1b2c3d4e5f6';

describe('principalFromClaims', () => {
  it('reads Keycloak claims', () => {
    expect(
      principalFromClaims({ sub, email: 'ada@example.test', email_verified: true, name: 'Ada L' }),
    ).toEqual({ sub, email: 'ada@example.test', emailVerified: true, name: 'Ada L' });
  });

  it('keeps a verified phone_number in E.164 form and leaves anything else out', () => {
    const verified = { sub, phone_number_verified: true };
    expect(principalFromClaims({ ...verified, phone_number: '+33612345678' })?.phone).toBe(
      '+33612345678',
    );
    for (const phone_number of ['0612345678', '+33 6 12 34 56 78', '+0612345678', 33612345678]) {
      expect(
        principalFromClaims({ ...verified, phone_number }),
        String(phone_number),
      ).not.toHaveProperty('phone');
    }
  });

  it('leaves out a phone_number the token does not say is verified', () => {
    for (const phone_number_verified of [undefined, false, 'true']) {
      expect(
        principalFromClaims({ sub, phone_number: '+33612345678', phone_number_verified }),
        String(phone_number_verified),
      ).not.toHaveProperty('phone');
    }
  });

  it('keeps when the token was issued, when it says', () => {
    expect(principalFromClaims({ sub, iat: 1_700_000_000 })?.issuedAt).toBe(1_700_000_000);
    expect(principalFromClaims({ sub, iat: 'yesterday' })).not.toHaveProperty('issuedAt');
  });

  it('falls back to preferred_username, then email, then sub for the name', () => {
    expect(principalFromClaims({ sub, preferred_username: 'ada' })?.name).toBe('ada');
    expect(principalFromClaims({ sub, email: 'ada@example.test' })?.name).toBe('ada@example.test');
    expect(principalFromClaims({ sub })?.name).toBe(sub);
  });

  it('treats a missing or non-boolean email_verified as unverified and a missing email as null', () => {
    expect(principalFromClaims({ sub, email_verified: 'true' })).toMatchObject({
      email: null,
      emailVerified: false,
    });
  });

  it.each([{}, { sub: '' }, { sub: 42 }])('rejects claims without a subject: %j', (claims) => {
    expect(principalFromClaims(claims)).toBeUndefined();
  });
});
