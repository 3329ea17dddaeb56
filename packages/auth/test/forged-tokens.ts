import { createHmac, randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Keycloak-shaped claims for hand-built tokens. */
export function claims(issuer: string, audience: string) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: randomUUID(), iss: issuer, aud: audience, iat: now, exp: now + 300 };
}

/** An unsigned token (`alg: none`). */
export function unsignedToken(payload: object): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** A token with `header` and a signature that is no signature: what a stranger sends for free. */
export function unverifiableToken(header: object, payload: object): string {
  return `${b64(header)}.${b64(payload)}.AAAA`;
}

/** The algorithm-confusion attack: HS256 keyed with the issuer's public RSA key PEM. */
export function hs256WithPublicKey(payload: object, publicKeyPem: string, kid?: string): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...(kid && { kid }) })}.${b64(payload)}`;
  const signature = createHmac('sha256', publicKeyPem).update(input).digest('base64url');
  return `${input}.${signature}`;
}

/** A well-formed RS256 token signed by a key the issuer never published, under the issuer's kid. */
export async function signedByStranger(payload: object, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ ...payload }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
}

/** The `kid` of a compact JWS. */
export function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
}
