import { createHash, randomBytes } from 'node:crypto';

/** A fresh single-use invite token: 32 random bytes, base64url. Only its hash is stored. */
export function newInviteToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of the token, hex: what the database keeps and looks invites up by. */
export function hashInviteToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The link the invite email carries: the client app's accept page under `publicAppUrl` (its path
 * kept, e.g. `https://example.com/app` → `https://example.com/app/invites/accept?token=…`).
 */
export function acceptUrl(publicAppUrl: string, token: string): string {
  const base = publicAppUrl.endsWith('/') ? publicAppUrl : `${publicAppUrl}/`;
  const url = new URL('invites/accept', base);
  url.searchParams.set('token', token);
  return url.toString();
}
