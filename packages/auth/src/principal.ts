/** The authenticated caller, taken from a verified access token. `sub` is the user id everywhere. */
export interface Principal {
  sub: string;
  email: string | null;
  emailVerified: boolean;
  name: string;
  /**
   * `phone_number`, when the token carries one in E.164 form (`+` and 7–15 digits) and says it
   * is verified (`phone_number_verified`): SMS go to it, so a number anyone could type in for
   * themselves would send them to someone else.
   */
  phone?: string;
  /** When the token was issued (`iat`, seconds since the epoch), if it says. */
  issuedAt?: number;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

const E164 = /^\+[1-9]\d{6,14}$/;

/** Maps Keycloak-shaped claims to a Principal; undefined when the token names no subject. */
export function principalFromClaims(
  claims: Readonly<Record<string, unknown>>,
): Principal | undefined {
  const sub = text(claims.sub);
  if (sub === undefined) return undefined;
  const email = text(claims.email) ?? null;
  return {
    sub,
    email,
    emailVerified: claims.email_verified === true,
    name: text(claims.name) ?? text(claims.preferred_username) ?? email ?? sub,
    // Anything else is left out rather than refused: a malformed number must not lock anyone out.
    ...(typeof claims.phone_number === 'string' &&
    E164.test(claims.phone_number) &&
    claims.phone_number_verified === true
      ? { phone: claims.phone_number }
      : {}),
    ...(typeof claims.iat === 'number' && Number.isFinite(claims.iat)
      ? { issuedAt: claims.iat }
      : {}),
  };
}
